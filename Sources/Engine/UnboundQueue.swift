import NetfilterQueue

/// What a worker holds between closing a queue whose binding was lost and binding it again:
/// no socket, nothing to receive, nothing to send. Holding it releases the old socket, so the
/// kernel drops a binding that socket may still have.
final class UnboundQueue: PacketQueue {
    func receive(into burst: PacketBurst) throws(NetfilterQueueError) -> Int {
        burst.load([])
        return 0
    }

    func receiveWaiting(into burst: PacketBurst) throws(NetfilterQueueError) -> Int {
        burst.load([])
        return 0
    }

    func send(_ batch: VerdictBatch) throws(NetfilterQueueError) {
        batch.removeAll()
    }

    var statistics: QueueSocketStatistics { QueueSocketStatistics() }

    func close() {}
}
