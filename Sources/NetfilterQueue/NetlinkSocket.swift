internal import CNetfilterQueue
import LinuxSystem

#if canImport(Glibc)
    import Glibc
#endif

// Every libc, libmnl and libnetfilter_queue call of the queue lives in this file (plus the
// receive buffers in PacketBurst.swift); EINTR retry and errno are LinuxSystem's SystemCall.

/// A netlink socket of the netfilter family, owned: `deinit` closes it.
final class NetlinkSocket {
    private let handle: OpaquePointer
    let fd: Int32
    let portID: UInt32

    init() throws(NetfilterQueueError) {
        guard let handle = mnl_socket_open(NETLINK_NETFILTER) else {
            throw .syscall("socket(AF_NETLINK, NETLINK_NETFILTER)", Errno(errno))
        }
        guard mnl_socket_bind(handle, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let error = Errno(errno)
            mnl_socket_close(handle)
            throw .syscall("bind(AF_NETLINK)", error)
        }
        self.handle = handle
        self.fd = mnl_socket_get_fd(handle)
        self.portID = mnl_socket_get_portid(handle)
    }

    deinit {
        mnl_socket_close(handle)
    }

    /// A socket for requests and their answers, off the hot path (ipset, nf_tables sets):
    /// answers awaited at most `receiveTimeoutMilliseconds`, and a 1 MiB receive buffer, room
    /// for a batch of acknowledgements (36 bytes each; an error echoes its request).
    static func forRequests(receiveTimeoutMilliseconds: Int) throws(NetfilterQueueError) -> NetlinkSocket {
        let socket = try NetlinkSocket()
        try socket.setReceiveTimeout(milliseconds: receiveTimeoutMilliseconds)
        _ = try socket.setReceiveBuffer(bytes: 1 << 20)
        return socket
    }

    /// NETLINK_NO_ENOBUFS: the kernel stops reporting receive-buffer overruns as ENOBUFS
    /// errors on the socket; the packets it could not deliver are counted by the kernel
    /// (queue_user_dropped in /proc/net/netfilter/nfnetlink_queue).
    func setNoENOBUFS() throws(NetfilterQueueError) {
        var one: Int32 = 1
        guard setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .syscall("setsockopt(NETLINK_NO_ENOBUFS)", Errno(errno))
        }
    }

    /// Raises the receive buffer with SO_RCVBUFFORCE (needs CAP_NET_ADMIN, ignores rmem_max),
    /// falling back to SO_RCVBUF. Returns the size the kernel reports afterwards.
    @discardableResult
    func setReceiveBuffer(bytes: Int) throws(NetfilterQueueError) -> Int {
        var size = Int32(clamping: bytes)
        let length = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, length) != 0 {
            guard setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, length) == 0 else {
                throw .syscall("setsockopt(SO_RCVBUF)", Errno(errno))
            }
        }
        var actual: Int32 = 0
        var actualLength = length
        _ = getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &actual, &actualLength)
        return Int(actual)
    }

    /// SO_RCVTIMEO: a blocking receive returns EAGAIN after this long.
    func setReceiveTimeout(milliseconds: Int) throws(NetfilterQueueError) {
        var value = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            throw .syscall("setsockopt(SO_RCVTIMEO)", Errno(errno))
        }
    }

    /// Sends the first `count` bytes of `bytes`, netlink messages, to the kernel in one
    /// `send` call.
    func send(_ bytes: [UInt8], count: Int) throws(NetfilterQueueError) {
        precondition(count <= bytes.count)
        let result = bytes.withUnsafeBytes { raw in
            SystemCall.retryingInterrupts { Glibc.send(fd, raw.baseAddress, count, 0) }
        }
        guard result >= 0 else { throw .syscall("send(netlink)", Errno(errno)) }
    }

    /// Receives one datagram into `buffer` (MSG_TRUNC: the length is the datagram's, which
    /// exceeds `buffer.count` when it did not fit). `nil` on the receive timeout (EAGAIN),
    /// else the length or the errno of a failure.
    func receiveDatagram(into buffer: inout [UInt8]) -> Result<Int, Errno>? {
        let result = buffer.withUnsafeMutableBytes { raw in
            SystemCall.retryingInterrupts { recv(fd, raw.baseAddress, raw.count, Int32(MSG_TRUNC)) }
        }
        if result >= 0 { return .success(result) }
        let error = errno
        if error == EAGAIN || error == EWOULDBLOCK { return nil }
        return .failure(Errno(error))
    }

    /// One `recvmmsg` call over prepared headers. Returns the number of datagrams, 0 on
    /// timeout, or the errno of a failure (ENOBUFS included) for the caller to count.
    func receiveMany(_ headers: UnsafeMutablePointer<cnfq_mmsghdr>, count: Int, wait: Bool) -> Result<Int, Errno> {
        let flags = wait ? Int32(MSG_WAITFORONE) : Int32(MSG_DONTWAIT)
        let result = SystemCall.retryingInterrupts { Int(cnfq_recvmmsg(fd, headers, UInt32(count), flags)) }
        if result >= 0 { return .success(result) }
        let error = errno
        if error == EAGAIN || error == EWOULDBLOCK { return .success(0) }
        return .failure(Errno(error))
    }
}

extension NetlinkSocket: VerdictTransport {
    func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        let result = SystemCall.retryingInterrupts { Glibc.send(fd, bytes.baseAddress, bytes.count, 0) }
        return result >= 0 ? .success(result) : .failure(Errno(errno))
    }

    /// 0.1 ms, then 0.2 ms, ...: time for the kernel to find memory for the message.
    func pauseBeforeRetry(attempt: Int) {
        var pause = timespec(tv_sec: 0, tv_nsec: 100_000 * attempt)
        _ = nanosleep(&pause, nil)
    }
}
