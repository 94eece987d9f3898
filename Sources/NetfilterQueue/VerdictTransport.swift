/// Where verdict messages go: the queue's netlink socket, or a stand-in that fails on purpose
/// in tests (the seam for fault injection).
public protocol VerdictTransport: AnyObject {
    /// Sends `bytes` as one datagram (EINTR already retried). Returns the bytes taken or the
    /// errno of the failure.
    func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno>

    /// Waits a little before attempt `attempt` (1, 2, ...) of a send that failed with a
    /// transient error. Failure path only.
    func pauseBeforeRetry(attempt: Int)
}
