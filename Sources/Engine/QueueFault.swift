import NetfilterQueue

/// What a queue worker makes of a fault on its queue. A pure decision, kept apart from the
/// worker's loop (which counts, logs and acts on it), so that it is tested without a socket.
///
/// - ENOBUFS: the kernel dropped messages because the receive buffer was full. Counted; the
///   socket and its binding are fine, so the worker carries on.
/// - ENOMEM: the kernel had no memory for the message; retried on the same socket, and taken
///   as a lost binding after `transientLimit` failures in a row.
/// - Any other failed receive, or the kernel's queue table no longer showing this socket's
///   port id on the queue: the binding is gone. The worker closes the socket, opens a new one
///   and binds the queue again with the same configuration, with `backoffSeconds` between
///   refused attempts.
enum QueueFault: Equatable, Sendable {
    /// A receive buffer overrun (ENOBUFS): count it and carry on.
    case overrun
    /// A failure that may pass: retry on the same socket.
    case transient
    /// The binding is gone or the socket is broken; the reason, for the log.
    case bindingLost(String)

    /// Transient failures in a row after which the queue is bound again anyway.
    static let transientLimit = 5

    /// The least time between two looks at the kernel's queue table (taken only when a
    /// receive returned nothing, so never on a busy queue: one that gets packets is bound).
    static let checkIntervalNanoseconds: UInt64 = 200_000_000

    /// The fault a failed receive is; `consecutive` counts this failure and those right before it.
    static func receiveFailed(_ error: NetfilterQueueError, consecutive: Int) -> QueueFault {
        guard case .syscall(let call, let errno) = error else {
            return .bindingLost("\(error)")
        }
        switch errno {
        case .noBufferSpace:
            return .overrun
        case .interrupted, .resourceTemporarilyUnavailable:
            return .transient
        case .noMemory:
            return consecutive < transientLimit
                ? .transient : .bindingLost("\(call): \(errno), \(consecutive) times in a row")
        default:
            return .bindingLost("\(call) failed: \(errno) (errno \(errno.rawValue))")
        }
    }

    /// The fault the kernel's queue table shows for `queue` bound by the socket of port id
    /// `portID`, nil when the table agrees (or cannot be read, or the port id is unknown: 0).
    static func kernelView(_ table: [KernelQueueFigures]?, queue: UInt16, portID: UInt32) -> QueueFault? {
        guard let table, portID != 0 else { return nil }
        guard let entry = table.first(where: { $0.queue == queue }) else {
            return .bindingLost("the kernel no longer lists queue \(queue) as bound")
        }
        guard entry.portID == portID else {
            return .bindingLost(
                "the kernel shows queue \(queue) bound by netlink port id \(entry.portID), not ours (\(portID))"
            )
        }
        return nil
    }

    /// A refused bind as the log should say it: the kernel answers EPERM both without
    /// CAP_NET_ADMIN and when another socket holds the queue, and a daemon that has dropped
    /// root can tell the two apart only through the table it opened before (`table`).
    static func bindRefusal(_ error: NetfilterQueueError, table: [KernelQueueFigures]?) -> NetfilterQueueError {
        guard case .kernelRefused(let queue, _, let errno) = error, errno == .notPermitted || errno == .resourceBusy,
            let holder = table?.first(where: { $0.queue == queue })
        else { return error }
        return .queueTaken(queue: queue, portID: holder.portID)
    }

    /// Seconds to wait after refused bind attempt `attempt` (1, 2, ...): 20 ms, doubling, at
    /// most 0.5 s, so that a queue freed by another process is bound again within half a second.
    static func backoffSeconds(attempt: Int) -> Double {
        let doublings = min(max(attempt - 1, 0), 5)
        return min(0.5, 0.02 * Double(1 << doublings))
    }
}
