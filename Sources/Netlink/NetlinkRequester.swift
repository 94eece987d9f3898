import LinuxSystem
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The one request/acknowledge transport of the netlink clients (ipset, nf_tables sets,
/// conntrack): sends a batch of requests in one datagram and collects the kernel's answer to
/// each by sequence number, or sends one dump (or query) and hands on every message of its
/// answer up to NLMSG_DONE. Answers to other sequence numbers (late answers to a batch that
/// timed out) are skipped. Use from one thread.
public final class NetlinkRequester {
    public let socket: NetlinkSocket
    /// One datagram. Dump datagrams are at most 32 KiB (the kernel's dump allocation); room
    /// for more, which the MSG_TRUNC check reports rather than cuts.
    private var buffer: [UInt8]
    private var sequence: UInt32

    /// Opens and binds a NETLINK_NETFILTER socket (needs CAP_NET_ADMIN to be of use).
    public init(receiveTimeoutMilliseconds: Int = 2000) throws(NetlinkError) {
        socket = try NetlinkSocket.forRequests(receiveTimeoutMilliseconds: receiveTimeoutMilliseconds)
        buffer = [UInt8](repeating: 0, count: 128 << 10)
        // Distinct from a previous process's requests on a reused port id.
        sequence = UInt32(truncatingIfNeeded: time(nil))
    }

    /// The next request sequence number.
    public func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// Sends `bytes`, which hold `count` requests numbered from `first` (each with
    /// NLM_F_ACK), and returns the kernel's answer to each, in order: 0 done, else the errno
    /// (or subsystem error number), positive. `batch`: the sequence number of a batch's
    /// NFNL_MSG_BATCH_BEGIN, whose error answer means the kernel refused the whole batch.
    public func acknowledge(
        _ bytes: [UInt8],
        first: UInt32,
        count: Int,
        batch: UInt32? = nil,
        operation: String
    ) throws(NetlinkError) -> [Int32] {
        try socket.send(bytes, count: bytes.count)
        var answers = [Int32](repeating: -1, count: count)
        var answered = 0
        var batchCode: Int32?
        while answered < count && batchCode == nil {
            try receive(operation: operation, missing: count - answered) { message in
                guard let code = message.errorCode else { return }
                if message.sequence == batch, code != 0 {
                    batchCode = code
                    return
                }
                guard message.sequence &- first < UInt32(count) else { return }
                let index = Int(message.sequence &- first)
                if answers[index] == -1 { answered += 1 }
                answers[index] = code
            }
        }
        if let batchCode { throw .kernelRefused(operation: operation, Errno(batchCode)) }
        return answers
    }

    /// Sends one request numbered `sequence` (a dump, NLM_F_DUMP; or a query, NLM_F_ACK) and
    /// hands every data message answering it to `body`, until NLMSG_DONE or the request's
    /// acknowledgement. An error answer throws `.kernelRefused`.
    @discardableResult
    public func collect(
        _ bytes: [UInt8],
        sequence: UInt32,
        operation: String,
        _ body: (NetlinkMessage) -> Void
    ) throws(NetlinkError) -> NetlinkDumpSummary {
        try socket.send(bytes, count: bytes.count)
        var summary = NetlinkDumpSummary()
        var finished = false
        var refusal: Int32 = 0
        while !finished {
            let readable = try receive(operation: operation, missing: 1) { message in
                guard message.sequence == sequence, !finished else { return }
                if let code = message.errorCode {
                    refusal = code
                    finished = true
                } else if message.type == Netlink.MessageType.done {
                    finished = true
                } else if message.type >= Netlink.MessageType.minimumDataType {
                    if message.flags & Netlink.Flags.dumpInterrupted != 0 { summary.interrupted = true }
                    summary.messages += 1
                    body(message)
                }
            }
            if !readable { summary.malformedDatagrams += 1 }
        }
        if refusal != 0 { throw .kernelRefused(operation: operation, Errno(refusal)) }
        return summary
    }

    /// Receives one datagram and hands each of its messages to `body`; false when a message
    /// header did not fit (the messages before it were handed on).
    @discardableResult
    private func receive(
        operation: String,
        missing: Int,
        _ body: (NetlinkMessage) -> Void
    ) throws(NetlinkError) -> Bool {
        let received: Int
        switch socket.receiveDatagram(into: &buffer) {
        case .success(let length): received = length
        case .failure(let error): throw .syscall("recv(netlink) during \(operation)", error)
        case nil: throw .noAnswer(operation: operation, missing: missing)
        }
        guard received <= buffer.count else {
            throw .malformed("a datagram of \(received) bytes did not fit the \(buffer.count)-byte buffer")
        }
        let walk = buffer.withUnsafeBytes { datagram in
            NetlinkReader.forEachMessage(in: UnsafeRawBufferPointer(rebasing: datagram[0..<received])) { message in
                body(message)
                return .ok
            }
        }
        return walk != .malformed
    }
}
