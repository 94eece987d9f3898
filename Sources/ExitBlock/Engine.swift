import ExitSet
import NetfilterQueue
import Synchronization

/// The running blocker: one worker per queue, one snapshot cell they all read.
public final class Engine: Sendable {
    public let configuration: EngineConfiguration
    /// The published exit set.
    public let cell: SnapshotCell<ExitSet>
    private let workers: [QueueWorker]
    private let started = Atomic<Bool>(false)
    /// The cell's version when the workers started with their first set (see `setVersion`).
    private let baseVersion = Atomic<UInt64>(0)

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
    }

    /// Starts the worker threads with the set given at init.
    public func start() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        for worker in workers { worker.start() }
    }

    /// Installs `set` and starts the worker threads: for a caller that binds the queues
    /// before its lists are loaded. `setVersion` counts publishes from this one.
    public func start(initialSet set: ExitSet) {
        cell.publish(set)
        baseVersion.store(cell.version, ordering: .relaxed)
        start()
    }

    /// Publishes of a new set since the workers started (0: the set they started with).
    public var setVersion: UInt64 { cell.version &- baseVersion.load(ordering: .relaxed) }

    /// Stops every worker: each answers what it already holds, then unbinds its queue.
    /// Returns when all have finished. Workers never started just close their sockets when
    /// the engine is released.
    public func stop() {
        guard started.load(ordering: .relaxed) else { return }
        for worker in workers { worker.requestStop() }
        for worker in workers { worker.waitUntilFinished() }
    }

    /// Replaces the exit set for all workers at once; returns the grace period in ns.
    @discardableResult
    public func publish(_ set: ExitSet) -> UInt64 {
        cell.publish(set)
    }

    /// The counters of each queue, read now.
    public func counters() -> [(queue: UInt16, values: CounterValues)] {
        workers.map { ($0.queueNumber, $0.counters.read()) }
    }

    /// Each worker's loop count (relaxed reads): a worker whose count stops moving is stuck,
    /// since a live one turns at least once per receive timeout.
    public func heartbeats() -> [UInt64] {
        workers.map { $0.heartbeat.load(ordering: .relaxed) }
    }

    /// The sum over all queues.
    public func totalCounters() -> CounterValues {
        counters().reduce(CounterValues()) { $0 + $1.values }
    }
}
