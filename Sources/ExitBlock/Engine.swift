import ExitSet
import NetfilterQueue
import Synchronization

/// The running blocker: one worker per queue, one snapshot cell they all read.
public final class Engine: Sendable {
    public let configuration: EngineConfiguration
    /// The published exit set.
    public let cell: SnapshotCell<ExitSet>
    /// Flow mode only: deletes the conntrack entries of newly listed addresses after a publish.
    public let invalidator: ConntrackInvalidator?
    private let workers: [QueueWorker]
    /// Serializes publishes in flow mode, so each invalidation compares the set it replaced.
    private let publishLock = Mutex<Void>(())

    /// Binds every queue (failing as a whole if one cannot be bound: the ones bound so far
    /// are unbound again) and publishes `initialSet`. Workers start with `start()`.
    public init(
        configuration: EngineConfiguration,
        initialSet: ExitSet,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(NetfilterQueueError) {
        self.configuration = configuration
        let cell = SnapshotCell(initialSet)
        self.cell = cell
        var workers: [QueueWorker] = []
        for (index, number) in configuration.queues.enumerated() {
            workers.append(
                try QueueWorker(
                    configuration: configuration.queueConfiguration(number),
                    policy: configuration.policy,
                    cpu: configuration.cpu(forWorker: index),
                    cell: cell,
                    log: log
                )
            )
        }
        self.workers = workers
        invalidator =
            configuration.mode == .flow
            ? ConntrackInvalidator(direction: configuration.matchDirection, log: log) : nil
    }

    /// Starts the worker threads. In flow mode, then deletes the conntrack entries of every
    /// listed address: flows accepted while no exitblock judged them (a restart, or a
    /// `--queue-bypass` gap) are judged again on their next packet.
    public func start() {
        for worker in workers { worker.start() }
        if let invalidator {
            publishLock.withLock { _ in
                _ = invalidator.invalidate(old: ExitSet.empty, new: cell.snapshot, reason: "start")
            }
        }
    }

    /// Stops every worker: each answers what it already holds, then unbinds its queue.
    /// Returns when all have finished.
    public func stop() {
        for worker in workers { worker.requestStop() }
        for worker in workers { worker.waitUntilFinished() }
    }

    /// Replaces the exit set for all workers at once; returns the grace period in ns.
    ///
    /// In flow mode, once the new set is in force (the grace period over), also deletes the
    /// conntrack entries of addresses it newly lists, on the calling thread (see
    /// `ConntrackInvalidator`): the call then lasts as long as a dump of the table.
    @discardableResult
    public func publish(_ set: ExitSet) -> UInt64 {
        guard let invalidator else { return cell.publish(set) }
        return publishLock.withLock { _ in
            let old = cell.snapshot
            let pause = cell.publish(set)
            invalidator.invalidate(old: old, new: set)
            return pause
        }
    }

    /// The counters of each queue, read now.
    public func counters() -> [(queue: UInt16, values: CounterValues)] {
        workers.map { ($0.queueNumber, $0.counters.read()) }
    }

    /// The sum over all queues.
    public func totalCounters() -> CounterValues {
        counters().reduce(CounterValues()) { $0 + $1.values }
    }
}
