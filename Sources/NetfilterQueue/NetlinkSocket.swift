internal import CNetfilterQueue
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// Every libc, libmnl and libnetfilter_queue call of this module lives in this file (plus the
// receive buffers in PacketBurst.swift). errno handling and EINTR retry are in `retrying`.

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
        let result = bytes.withUnsafeBytes { raw in retrying { Glibc.send(fd, raw.baseAddress, count, 0) } }
        guard result >= 0 else { throw .syscall("send(netlink)", Errno(errno)) }
    }

    /// One `recvmmsg` call over prepared headers. Returns the number of datagrams, 0 on
    /// timeout, or the errno of a failure (ENOBUFS included) for the caller to count.
    func receiveMany(_ headers: UnsafeMutablePointer<cnfq_mmsghdr>, count: Int, wait: Bool) -> Result<Int, Errno> {
        let flags = wait ? Int32(MSG_WAITFORONE) : Int32(MSG_DONTWAIT)
        let result = retrying { Int(cnfq_recvmmsg(fd, headers, UInt32(count), flags)) }
        if result >= 0 { return .success(result) }
        let error = errno
        if error == EAGAIN || error == EWOULDBLOCK { return .success(0) }
        return .failure(Errno(error))
    }
}

extension NetlinkSocket: VerdictTransport {
    func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        let result = retrying { Glibc.send(fd, bytes.baseAddress, bytes.count, 0) }
        return result >= 0 ? .success(result) : .failure(Errno(errno))
    }

    /// 0.1 ms, then 0.2 ms, ...: time for the kernel to find memory for the message.
    func pauseBeforeRetry(attempt: Int) {
        var pause = timespec(tv_sec: 0, tv_nsec: 100_000 * attempt)
        _ = nanosleep(&pause, nil)
    }
}

/// Retries a call that failed with EINTR; any other result is returned as is.
@inline(__always)
private func retrying<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result < 0 && errno == EINTR { continue }
        return result
    }
}

/// Reads a small file (procfs) whole; nil when it cannot be opened.
func readSmallFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
    let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return readToEnd(fd, limit: limit)
}

/// Reads `fd` from its current offset to the end, up to about `limit` bytes.
private func readToEnd(_ fd: Int32, limit: Int) -> [UInt8]? {
    var contents: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while contents.count < limit {
        let count = chunk.withUnsafeMutableBytes { raw in retrying { read(fd, raw.baseAddress, raw.count) } }
        guard count > 0 else { break }
        contents += chunk[0..<count]
    }
    return contents
}

/// A small /proc file kept open: each read starts again at offset 0, where the kernel's
/// seq_file generates the text anew. Opened while the process may still read it (the
/// queue table is mode 0440 root), it stays readable after privileges are dropped.
final class KeptOpenFile: Sendable {
    private let descriptor: Mutex<Int32>

    init?(_ path: String) {
        let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        descriptor = Mutex(fd)
    }

    deinit { descriptor.withLock { _ = close($0) } }

    /// The whole file now, up to `limit` bytes; nil when reading fails.
    func read(limit: Int = 1 << 20) -> [UInt8]? {
        descriptor.withLock { fd -> [UInt8]? in
            guard lseek(fd, 0, SEEK_SET) == 0 else { return nil }
            return readToEnd(fd, limit: limit)
        }
    }
}

/// Pins the calling thread to one CPU (sched_setaffinity).
public func pinCurrentThread(toCPU cpu: Int) throws(NetfilterQueueError) {
    guard cpu >= 0, cnfq_pin_current_thread(UInt32(cpu)) == 0 else {
        throw .syscall("sched_setaffinity(cpu \(cpu))", Errno(cpu < 0 ? EINVAL : errno))
    }
}
