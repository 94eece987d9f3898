import LinuxSystem
internal import CNetfilterQueue

#if canImport(Glibc)
    import Glibc
#endif

// The system calls of the conntrack interface: a NETLINK_NETFILTER socket (opened and bound
// by NetlinkSocket), one send per request batch, one recv per answer datagram. errno
// becomes ConntrackError here and nowhere else.

/// A ctnetlink socket with its receive buffer. Use from one thread.
final class ConntrackSocket {
    private let socket: NetlinkSocket
    /// One datagram. Dump datagrams are at most 32 KiB (the kernel's dump allocation).
    private var buffer: [UInt8]
    private(set) var sequence: UInt32

    init(receiveTimeoutMilliseconds: Int = 2000) throws(ConntrackError) {
        do {
            socket = try NetlinkSocket()
            try socket.setReceiveTimeout(milliseconds: receiveTimeoutMilliseconds)
            // Room for a batch of acknowledgements; dumps are paced by our reads.
            try socket.setReceiveBuffer(bytes: 1 << 20)
        } catch {
            throw Self.converted(error)
        }
        buffer = [UInt8](repeating: 0, count: 64 << 10)
        // Distinct from a previous process's requests on a reused port id.
        sequence = UInt32(truncatingIfNeeded: time(nil))
    }

    /// The next request sequence number.
    func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// Sends request messages in one datagram.
    func send(_ bytes: [UInt8]) throws(ConntrackError) {
        do {
            try socket.send(bytes, count: bytes.count)
        } catch {
            throw Self.converted(error)
        }
    }

    /// Receives one datagram and hands it to `body`. Throws `.noAnswer` after the receive
    /// timeout, `.malformed` when the datagram did not fit the buffer.
    func receive<Result>(
        operation: String,
        _ body: (UnsafeRawBufferPointer) -> Result
    ) throws(ConntrackError) -> Result {
        let received: Int
        switch socket.receiveDatagram(into: &buffer) {
        case .success(let length): received = length
        case .failure(let error): throw .syscall("recv(ctnetlink) during \(operation)", error)
        case nil: throw .noAnswer(operation: operation)
        }
        guard received <= buffer.count else {
            throw .malformed("a datagram of \(received) bytes did not fit the \(buffer.count)-byte buffer")
        }
        return buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<received])) }
    }

    private static func converted(_ error: NetfilterQueueError) -> ConntrackError {
        if case .syscall(let call, let errno) = error { return .syscall(call, errno) }
        return .malformed("\(error)")
    }
}
