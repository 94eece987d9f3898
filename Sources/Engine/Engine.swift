import Dispatch
import ExitSet
import NetfilterQueue
import Synchronization
import VerdictCache

/// The running blocker: one worker per queue, one snapshot cell they all read.
public final class Engine: Sendable {
    public let configuration: EngineConfiguration
    /// The published sets (exit set and allowlist, one snapshot).
    public let cell: SnapshotCell<PolicySets>
    /// Flow mode only: deletes the conntrack entries of newly listed addresses after a publish.
    public let invalidator: ConntrackInvalidator?
    private let workers: [QueueWorker]
    /// The drop cache's kernel side, once attached: pruned on every publish.
    private let attachedDropCache = Mutex<DropCache?>(nil)
    private let started = Atomic<Bool>(false)
    /// Serializes publishers, so that a publish of one set never loses a concurrent publish
    /// of the other, and each flow-mode invalidation compares the set it replaced. Readers of
    /// the versions below never take it.
    private let publishing = Mutex<Void>(())
    private let exitsVersion = Atomic<UInt64>(0)
    private let allowlistPublishes = Atomic<UInt64>(0)

    /// Binds every queue (failing as a whole if one cannot be bound: the ones bound so far
    /// are unbound again) and publishes `initialSet` and `allowlist`. Workers start with `start()`.
    public init(
        configuration: EngineConfiguration,
        initialSet: ExitSet,
        allowlist: ExitSet = .empty,
        log: @escaping @Sendable (String) -> Void = { _ in },
        openQueue: (QueueConfiguration) throws(NetfilterQueueError) -> any PacketQueue = {
            (configuration) throws(NetfilterQueueError) -> any PacketQueue in
            try NetfilterQueue(configuration: configuration)
        }
    ) throws(NetfilterQueueError) {
        self.configuration = configuration
        let cell = SnapshotCell(PolicySets(exits: initialSet, allowlist: allowlist))
        self.cell = cell
        var workers: [QueueWorker] = []
        // Opened now, while the process may still read it (mode 0440 root): the workers look
        // at it to see that their bindings are still theirs.
        let kernelTable = KernelQueueTable()
        for (index, number) in configuration.queues.enumerated() {
            let queueConfiguration = configuration.queueConfiguration(number)
            workers.append(
                QueueWorker(
                    queue: try openQueue(queueConfiguration),
                    configuration: queueConfiguration,
                    policy: configuration.policy,
                    cpu: configuration.cpu(forWorker: index),
                    cell: cell,
                    reopen: { () throws(NetfilterQueueError) -> any PacketQueue in
                        try NetfilterQueue(configuration: queueConfiguration)
                    },
                    kernelTable: kernelTable.isOpen ? kernelTable : nil,
                    log: log
                )
            )
        }
        self.workers = workers
        invalidator =
            configuration.mode == .flow
            ? ConntrackInvalidator(direction: configuration.matchDirection, log: log) : nil
    }

    /// The drop cache, when attached.
    public var dropCache: DropCache? { attachedDropCache.withLock { $0 } }

    /// Turns the verdict caches on: the workers hand the addresses of listed packets (drop
    /// cache families) and of accepted unlisted ones (accept cache families) to the cache's
    /// writer from their first burst, and every publish prunes the sets. The CLI attaches it
    /// once it has found the caches' rules, before `start` (the workers read the writer once,
    /// when they start).
    public func attach(_ cache: DropCache) {
        publishing.withLock { _ in
            attachedDropCache.withLock { $0 = cache }
            var bits: UInt8 = 0
            if cache.families.contains(.ipv4) { bits |= 1 }
            if cache.families.contains(.ipv6) { bits |= 2 }
            if cache.acceptFamilies.contains(.ipv4) { bits |= 4 }
            if cache.acceptFamilies.contains(.ipv6) { bits |= 8 }
            for worker in workers {
                worker.cacheWriter.withLock { $0 = cache.writer }
                worker.cacheFamilies.store(bits, ordering: .relaxed)
            }
        }
    }

    /// Publishes `exits` and `allowlist` as the next generation; once the grace period is
    /// over (no worker judges with the old sets), the cache writer stops sending addresses
    /// judged with them, before the caller prunes the sets. Call under `publishing`.
    private func publishSets(exits: ExitSet, allowlist: ExitSet) -> UInt64 {
        let generation = cell.snapshot.generation &+ 1
        let pause = cell.publish(PolicySets(exits: exits, allowlist: allowlist, generation: generation))
        dropCache?.writer.retire(below: generation)
        return pause
    }

    /// Starts the worker threads with the set given at init. In flow mode, then deletes the
    /// conntrack entries of every listed address: flows accepted while no exitblock judged
    /// them (a restart, or a `--queue-bypass` gap) are judged again on their next packet.
    public func start() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        for worker in workers { worker.start() }
        if let invalidator {
            publishing.withLock { _ in
                _ = invalidator.invalidate(old: ExitSet.empty, new: cell.snapshot.exits, reason: "start")
            }
        }
    }

    /// Installs the sets and starts the worker threads: for a caller that binds the queues
    /// before its lists are loaded. Not counted in `setVersion`: these are the sets loaded at start.
    public func start(initialSet set: ExitSet, allowlist: ExitSet) {
        publishing.withLock { _ in
            _ = publishSets(exits: set, allowlist: allowlist)
            // Entries left by an earlier run may no longer hold.
            dropCache?.prune(exits: set, allowlist: allowlist)
        }
        start()
    }

    /// Stops every worker: each answers what it already holds, then unbinds its queue.
    /// Returns when all have finished. Workers never started just close their sockets when
    /// the engine is released.
    public func stop() {
        guard started.load(ordering: .relaxed) else { return }
        for worker in workers { worker.requestStop() }
        for worker in workers { worker.waitUntilFinished() }
    }

    /// Replaces the queues given (by number) before the workers start: the queues a previous
    /// process handed over, in place of the stand-ins `openQueue` made at init.
    public func adopt(_ queues: [UInt16: any PacketQueue]) {
        precondition(!started.load(ordering: .relaxed), "Engine.adopt after start")
        for worker in workers {
            if let queue = queues[worker.queueNumber] { worker.replaceQueue(queue) }
        }
    }

    /// Stops every worker for a hand-over: each answers the packets it has read and leaves
    /// its queue bound, the packets still in the socket waiting there. Returns each queue's
    /// socket descriptor, to give to the next process (they stay open until this engine is
    /// released). Workers never started hand over their queues as they are.
    public func handOver() -> [(queue: UInt16, descriptor: Int32)] {
        if started.load(ordering: .relaxed) {
            for worker in workers { worker.requestStop(keepingBound: true) }
            for worker in workers { worker.waitUntilFinished() }
        }
        return workers.compactMap { worker in
            worker.handedDescriptor.withLock { $0 }.map { (worker.queueNumber, $0) }
        }
    }

    /// Replaces the exit set for all workers at once (the allowlist stays); returns the
    /// grace period in ns.
    ///
    /// In flow mode, once the new set is in force (the grace period over), also deletes the
    /// conntrack entries of addresses it newly lists, on the calling thread (see
    /// `ConntrackInvalidator`): the call then lasts as long as a dump of the table.
    @discardableResult
    public func publish(_ set: ExitSet) -> UInt64 {
        publishing.withLock { _ in
            let old = cell.snapshot.exits
            let pause = publishSets(exits: set, allowlist: cell.snapshot.allowlist)
            exitsVersion.add(1, ordering: .relaxed)
            _ = invalidator?.invalidate(old: old, new: set)
            dropCache?.prune(exits: set, allowlist: cell.snapshot.allowlist)
            return pause
        }
    }

    /// Replaces the allowlist for all workers at once (the exit set stays); returns the
    /// grace period in ns.
    @discardableResult
    public func publishAllowlist(_ allowlist: ExitSet) -> UInt64 {
        publishing.withLock { _ in
            let pause = publishSets(exits: cell.snapshot.exits, allowlist: allowlist)
            allowlistPublishes.add(1, ordering: .relaxed)
            dropCache?.prune(exits: cell.snapshot.exits, allowlist: allowlist)
            return pause
        }
    }

    /// The exit set in force (slow path: takes a lock and a reference).
    public var exitSet: ExitSet { cell.snapshot.exits }

    /// The allowlist in force (slow path).
    public var allowlist: ExitSet { cell.snapshot.allowlist }

    /// Publishes of the exit set since start (0: the set loaded at start).
    public var setVersion: UInt64 { exitsVersion.load(ordering: .relaxed) }

    /// Publishes of the allowlist since start.
    public var allowlistVersion: UInt64 { allowlistPublishes.load(ordering: .relaxed) }

    /// The counters of each queue, read now.
    public func counters() -> [(queue: UInt16, values: CounterValues)] {
        workers.map { ($0.queueNumber, $0.counters.read()) }
    }

    /// Each worker's loop count (relaxed reads): a worker whose count stops moving is stuck,
    /// since a live one turns at least once per receive timeout.
    public func heartbeats() -> [UInt64] {
        workers.map { $0.heartbeat.load(ordering: .relaxed) }
    }

    /// For each queue, how long it has had no binding (its worker lost it and is binding it
    /// again), in seconds; nil while it is bound. Relaxed reads.
    public func unboundSeconds(now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> [(
        queue: UInt16, seconds: Double?
    )] {
        workers.map { worker in
            let since = worker.unboundSince.load(ordering: .relaxed)
            guard since != 0 else { return (worker.queueNumber, nil) }
            return (worker.queueNumber, Double(now &- min(since, now)) / 1e9)
        }
    }

    /// The sum over all queues.
    public func totalCounters() -> CounterValues {
        counters().reduce(CounterValues()) { $0 + $1.values }
    }

    /// The `limit` listed addresses with the most packets, over every queue.
    public func topListed(limit: Int = 10) -> [TopListedTable.Entry] {
        TopListedTable.top(workers.map(\.topListed), limit: limit)
    }
}
