import NetfilterQueue

/// The place of a queue that another exitblock still serves and will hand over: the engine
/// is built with it at start, and `Engine.adopt` puts the real queue in its place before the
/// workers start. It is never read from; `close` has nothing to unbind.
final class PendingQueue: PacketQueue {
    func receive(into burst: PacketBurst) throws(NetfilterQueueError) -> Int { 0 }
    func receiveWaiting(into burst: PacketBurst) throws(NetfilterQueueError) -> Int { 0 }
    func send(_ batch: VerdictBatch) throws(NetfilterQueueError) {}
    var statistics: QueueSocketStatistics { QueueSocketStatistics() }
    func close() {}
}
