import LinuxSystem
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

// The system calls of a netlink socket: socket(AF_NETLINK), bind, the options, one send per
// batch, one recv per datagram. EINTR retry and errno are LinuxSystem's SystemCall.

/// A bound netlink socket (NETLINK_NETFILTER unless told), owned: `deinit` closes it.
public final class NetlinkSocket {
    public let fd: Int32
    /// The port id the kernel gave the socket at bind.
    public let portID: UInt32

    /// AF_NETLINK, NETLINK_NETFILTER, SOL_NETLINK, NETLINK_NO_ENOBUFS, SO_RCVBUFFORCE: numbers
    /// of <linux/netlink.h> and <asm/socket.h> that Glibc's module does not carry.
    public static let netfilterProtocol: Int32 = 12
    static let family: Int32 = 16
    static let solNetlink: Int32 = 270
    static let noENOBUFS: Int32 = 5
    static let receiveBufferForce: Int32 = 33

    /// struct sockaddr_nl: family u16, pad u16, port id u32, groups u32.
    private struct Address {
        var family = UInt16(NetlinkSocket.family)
        var pad: UInt16 = 0
        var portID: UInt32 = 0
        var groups: UInt32 = 0
    }

    /// Opens a netlink socket of `netlinkProtocol` and binds it; the kernel picks the port id.
    public init(netlinkProtocol: Int32 = NetlinkSocket.netfilterProtocol) throws(NetlinkError) {
        let fd = socket(Self.family, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkProtocol)
        guard fd >= 0 else { throw .syscall("socket(AF_NETLINK, \(netlinkProtocol))", SystemCall.lastError) }
        var address = Address()
        var length = socklen_t(MemoryLayout<Address>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else {
            let error = SystemCall.lastError
            close(fd)
            throw .syscall("bind(AF_NETLINK)", error)
        }
        self.fd = fd
        self.portID = address.portID
    }

    deinit {
        close(fd)
    }

    /// Takes ownership of `descriptor`, a netlink socket opened and bound by someone else (a
    /// process that handed it over, SCM_RIGHTS or the service manager's descriptor store):
    /// its port id, and so everything the kernel bound to it, stays. Throws EBADF/ENOTSOCK
    /// when it is not a socket, EAFNOSUPPORT when not a netlink one; the descriptor is then
    /// left open for the caller.
    public init(adopting descriptor: Int32) throws(NetlinkError) {
        var address = Address()
        var length = socklen_t(MemoryLayout<Address>.size)
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) == 0 }
        }
        guard named else { throw .syscall("getsockname(\(descriptor))", SystemCall.lastError) }
        guard address.family == UInt16(Self.family), length >= MemoryLayout<Address>.size else {
            throw .syscall("getsockname(\(descriptor)): not a netlink socket", .addressFamilyNotSupported)
        }
        self.fd = descriptor
        self.portID = address.portID
    }

    /// A socket for requests and their answers, off the hot path (ipset, nf_tables, conntrack):
    /// answers awaited at most `receiveTimeoutMilliseconds`, and a 1 MiB receive buffer, room
    /// for a batch of acknowledgements (36 bytes each; an error echoes its request).
    public static func forRequests(receiveTimeoutMilliseconds: Int) throws(NetlinkError) -> NetlinkSocket {
        let socket = try NetlinkSocket()
        try socket.setReceiveTimeout(milliseconds: receiveTimeoutMilliseconds)
        _ = try socket.setReceiveBuffer(bytes: 1 << 20)
        return socket
    }

    /// NETLINK_NO_ENOBUFS: the kernel stops reporting receive-buffer overruns as ENOBUFS
    /// errors on the socket; the packets it could not deliver are counted by the kernel
    /// (queue_user_dropped in /proc/net/netfilter/nfnetlink_queue).
    public func setNoENOBUFS() throws(NetlinkError) {
        var one: Int32 = 1
        guard setsockopt(fd, Self.solNetlink, Self.noENOBUFS, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .syscall("setsockopt(NETLINK_NO_ENOBUFS)", SystemCall.lastError)
        }
    }

    /// Raises the receive buffer with SO_RCVBUFFORCE (needs CAP_NET_ADMIN, ignores rmem_max),
    /// falling back to SO_RCVBUF. Returns the size the kernel reports afterwards.
    @discardableResult
    public func setReceiveBuffer(bytes: Int) throws(NetlinkError) -> Int {
        var size = Int32(clamping: bytes)
        let length = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(fd, SOL_SOCKET, Self.receiveBufferForce, &size, length) != 0 {
            guard setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, length) == 0 else {
                throw .syscall("setsockopt(SO_RCVBUF)", SystemCall.lastError)
            }
        }
        var actual: Int32 = 0
        var actualLength = length
        _ = getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &actual, &actualLength)
        return Int(actual)
    }

    /// SO_RCVTIMEO: a blocking receive returns EAGAIN after this long.
    public func setReceiveTimeout(milliseconds: Int) throws(NetlinkError) {
        var value = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            throw .syscall("setsockopt(SO_RCVTIMEO)", SystemCall.lastError)
        }
    }

    /// Sends the first `count` bytes of `bytes`, netlink messages, to the kernel in one
    /// `send` call.
    public func send(_ bytes: [UInt8], count: Int) throws(NetlinkError) {
        precondition(count <= bytes.count)
        let result = bytes.withUnsafeBytes { raw in
            SystemCall.retryingInterrupts { Glibc.send(fd, raw.baseAddress, count, 0) }
        }
        guard result >= 0 else { throw .syscall("send(netlink)", SystemCall.lastError) }
    }

    /// Receives one datagram into `buffer` (MSG_TRUNC: the length is the datagram's, which
    /// exceeds `buffer.count` when it did not fit). `nil` on the receive timeout (EAGAIN),
    /// else the length or the errno of a failure.
    public func receiveDatagram(into buffer: inout [UInt8]) -> Result<Int, Errno>? {
        let result = buffer.withUnsafeMutableBytes { raw in
            SystemCall.retryingInterrupts { recv(fd, raw.baseAddress, raw.count, Int32(MSG_TRUNC)) }
        }
        if result >= 0 { return .success(result) }
        let error = SystemCall.lastError
        if error == .resourceTemporarilyUnavailable || error == .wouldBlock { return nil }
        return .failure(error)
    }

    /// Joins multicast group `group` (e.g. NFNLGRP_NFTABLES, 7): the kernel then sends the
    /// group's notifications to this socket.
    public func joinGroup(_ group: UInt32) throws(NetlinkError) {
        var number = group
        // NETLINK_ADD_MEMBERSHIP is 1 at SOL_NETLINK.
        guard setsockopt(fd, Self.solNetlink, 1, &number, socklen_t(MemoryLayout<UInt32>.size)) == 0 else {
            throw .syscall("setsockopt(NETLINK_ADD_MEMBERSHIP, \(group))", SystemCall.lastError)
        }
    }

    /// Waits at most `milliseconds` for a datagram; true when one can be read.
    public func waitReadable(milliseconds: Int32) throws(NetlinkError) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let result = SystemCall.retryingInterrupts { poll(&entry, 1, milliseconds) }
        guard result >= 0 else { throw .syscall("poll(netlink)", SystemCall.lastError) }
        return result > 0
    }

    /// Receives one datagram into `buffer`, waiting at most `milliseconds`: its length
    /// (MSG_TRUNC: larger than the buffer when it did not fit), or nil on the timeout.
    public func receive(into buffer: inout [UInt8], milliseconds: Int32) throws(NetlinkError) -> Int? {
        guard try waitReadable(milliseconds: milliseconds) else { return nil }
        switch receiveDatagram(into: &buffer) {
        case .success(let length): return length
        case .failure(let error): throw .syscall("recv(netlink)", error)
        case nil: return nil
        }
    }

    /// Reads and forgets every datagram waiting (notifications as a wake-up, not data); ENOBUFS
    /// (notifications the kernel could not queue) counts as one read. Returns how many.
    public func drain() -> Int {
        var count = 0
        var scratch = [UInt8](repeating: 0, count: 8192)
        while true {
            let result = scratch.withUnsafeMutableBytes { raw in
                SystemCall.retryingInterrupts { recv(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT)) }
            }
            guard result >= 0 || SystemCall.lastError == .noBufferSpace else { return count }
            count += 1
        }
    }
}
