import LinuxSystem

/// What the verdict sender did besides plain sends.
public struct VerdictSendStatistics: Sendable, Equatable {
    /// `send` calls of verdicts that failed (or were short).
    public var sendErrors: UInt64 = 0
    /// Whole batches sent again after a transient failure (ENOBUFS, ENOMEM, EAGAIN, EINTR).
    public var resends: UInt64 = 0
    /// Packets answered one by one (NFQNL_MSG_VERDICT) because their batch could not be sent.
    public var singleVerdicts: UInt64 = 0
    /// Packets whose verdict could not be sent at all by one `send(_:)`; they stay first in
    /// the batch and go out with the next send (counted each time they are carried).
    public var deferredVerdicts: UInt64 = 0

    public init() {}
}

/// Sends verdict batches so that a failed send never lets another message decide the
/// packets it carried.
///
/// A batch verdict (NFQNL_MSG_VERDICT_BATCH) applies to every queued id up to the one it
/// names. If a burst's send failed and the batch were dropped, its packets would stay queued
/// and the next burst's first batch message would give them its verdict (often ACCEPT): a
/// listed packet could pass. So a failed send is handled in three steps:
/// 1. a transient error (ENOBUFS, ENOMEM, EAGAIN, EINTR) resends the same bytes, a few times;
///    resending is safe, since a batch verdict only touches packets still queued;
/// 2. then every packet is answered on its own, one NFQNL_MSG_VERDICT naming its id and
///    carrying its own verdict, so a failure touches that packet only;
/// 3. packets still unanswered stay first in the batch, so the next send gives them their
///    own verdict before any later message can reach them (or the unbind at close drops them).
/// A short send (netlink sends are whole or nothing, so it should not happen) counts as a
/// failure; answering a packet twice only earns an ENOENT answer from the kernel.
/// Cost: nothing extra on a successful send.
public final class VerdictSender {
    private let transport: any VerdictTransport
    /// Attempts per message before giving up on it (the first send included).
    public let attempts: Int
    public private(set) var statistics = VerdictSendStatistics()

    public init(transport: any VerdictTransport, attempts: Int = 3) {
        precondition(attempts >= 1)
        self.transport = transport
        self.attempts = attempts
    }

    /// Sends every verdict of `batch` and removes the ones sent. Returns nil when all went
    /// out, else the last error; the unsent verdicts are then still in `batch`, oldest first.
    @discardableResult
    public func send(_ batch: VerdictBatch) -> NetfilterQueueError? {
        guard batch.count > 0 else { return nil }
        guard var error = sendWithRetries(batch.encode(), resendCounts: true) else {
            batch.removeAll()
            return nil
        }
        var answered = 0
        while answered < batch.count {
            if let singleError = sendWithRetries(batch.encodeSingle(at: answered), resendCounts: false) {
                error = singleError
                break
            }
            answered += 1
        }
        statistics.singleVerdicts += UInt64(answered)
        batch.removeFirst(answered)
        guard batch.count > 0 else { return nil }
        statistics.deferredVerdicts += UInt64(batch.count)
        return error
    }

    /// Sends `bytes`, again after a transient error, up to `attempts` times.
    private func sendWithRetries(_ bytes: [UInt8], resendCounts: Bool) -> NetfilterQueueError? {
        var attempt = 1
        while true {
            guard let error = sendOnce(bytes) else { return nil }
            statistics.sendErrors += 1
            guard attempt < attempts, error.isTransientSendError else { return error }
            transport.pauseBeforeRetry(attempt: attempt)
            attempt += 1
            if resendCounts { statistics.resends += 1 }
        }
    }

    private func sendOnce(_ bytes: [UInt8]) -> NetfilterQueueError? {
        let result = bytes.withUnsafeBytes { transport.sendDatagram($0) }
        switch result {
        case .success(let sent) where sent == bytes.count:
            return nil
        case .success(let sent):
            return .partialSend("send(netlink)", sent: sent, of: bytes.count)
        case .failure(let errno):
            return .syscall("send(netlink)", errno)
        }
    }
}

extension NetfilterQueueError {
    /// A send failure worth trying again: a transient errno, or a short send.
    fileprivate var isTransientSendError: Bool {
        switch self {
        case .syscall(_, let errno): return errno.isTransient
        case .partialSend: return true
        default: return false
        }
    }
}
