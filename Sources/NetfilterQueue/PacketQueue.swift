/// What a queue worker needs of a queue: bursts in, verdicts out. `NetfilterQueue` is the real
/// one; tests put a scripted stand-in here to run the per-burst logic without root.
public protocol PacketQueue: AnyObject {
    /// Waits up to the receive timeout and fills `burst`; returns the packet count.
    func receive(into burst: PacketBurst) throws(NetfilterQueueError) -> Int
    /// Fills `burst` with what is already waiting, without waiting; returns the packet count.
    func receiveWaiting(into burst: PacketBurst) throws(NetfilterQueueError) -> Int
    /// Sends the verdicts of `batch`; what could not be sent stays in it (see `VerdictSender`).
    func send(_ batch: VerdictBatch) throws(NetfilterQueueError)
    /// The figures of the queue's socket.
    var statistics: QueueSocketStatistics { get }
    /// Unbinds the queue.
    func close()
    /// The netlink port id of the queue's socket, as the kernel's queue table shows the
    /// queue's binder; 0 when there is none (a stand-in).
    var portID: UInt32 { get }
    /// Packets already read but not yet handed out by `receive` (answer them before a hand-over).
    var heldPackets: Int { get }
    /// Leaves the queue bound and returns the socket's descriptor for a hand-over (nil when
    /// there is none to hand over); `close` then no longer unbinds.
    func detach() -> Int32?
}

extension PacketQueue {
    /// No socket, no port id: the kernel's table is not consulted.
    public var portID: UInt32 { 0 }
    public var heldPackets: Int { 0 }
    public func detach() -> Int32? { nil }
}

extension NetfilterQueue: PacketQueue {}
