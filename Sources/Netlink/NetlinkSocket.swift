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
}
