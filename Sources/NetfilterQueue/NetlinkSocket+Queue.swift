internal import CNetfilterQueue
import LinuxSystem
import Netlink

#if canImport(Glibc)
    import Glibc
#endif

// The queue's own system calls on Netlink's socket: recvmmsg over the burst's headers, and
// the verdict sends (plus the receive buffers in PacketBurst.swift).

extension NetlinkSocket {
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
    public func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        let result = SystemCall.retryingInterrupts { Glibc.send(fd, bytes.baseAddress, bytes.count, 0) }
        return result >= 0 ? .success(result) : .failure(Errno(errno))
    }

    /// 0.1 ms, then 0.2 ms, ...: time for the kernel to find memory for the message.
    public func pauseBeforeRetry(attempt: Int) {
        var pause = timespec(tv_sec: 0, tv_nsec: 100_000 * attempt)
        _ = nanosleep(&pause, nil)
    }
}

extension NetfilterQueueError {
    /// A socket failure of the transport, as the queue reports it.
    init(_ error: NetlinkError) {
        switch error {
        case .syscall(let call, let errno): self = .syscall(call, errno)
        case .kernelRefused(let operation, let errno): self = .syscall(operation, errno)
        case .noAnswer(let operation, _): self = .syscall(operation, .timedOut)
        case .malformed(let what): self = .invalidConfiguration(field: "answer", reason: what)
        }
    }
}
