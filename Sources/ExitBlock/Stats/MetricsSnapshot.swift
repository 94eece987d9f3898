import NetfilterQueue

/// Every figure the stats socket serves, gathered at one instant: the workers' counters
/// summed per queue, the kernel's view of each queue, the set in force, the list sources.
/// `/metrics` and `/stats` both render one of these, so they always agree.
public struct MetricsSnapshot: Sendable, Equatable, Codable {
    /// The kernel's figures for one bound queue (/proc/net/netfilter/nfnetlink_queue).
    public struct Kernel: Sendable, Equatable, Codable {
        /// Packets waiting for a verdict.
        public var waiting: UInt64
        /// Packets dropped because the queue was full.
        public var queueDropped: UInt64
        /// Packets the kernel could not deliver to the socket (receive buffer full).
        public var userDropped: UInt64
        public var portID: UInt32

        public init(waiting: UInt64, queueDropped: UInt64, userDropped: UInt64, portID: UInt32) {
            self.waiting = waiting
            self.queueDropped = queueDropped
            self.userDropped = userDropped
            self.portID = portID
        }
    }

    /// One queue.
    public struct Queue: Sendable, Equatable, Codable {
        public var queue: UInt16
        /// Every `Counter` by its `description`.
        public var counters: [String: UInt64]
        /// Bursts per size class (not cumulative), as `BurstSizeCounts.counts`.
        public var burstSizes: [UInt64]
        /// Packets the kernel holds at most for this queue.
        public var maxLength: UInt32
        /// Nil when the kernel does not list the queue as bound.
        public var kernel: Kernel?

        public init(queue: UInt16, counters: [String: UInt64], burstSizes: [UInt64], maxLength: UInt32, kernel: Kernel?)
        {
            self.queue = queue
            self.counters = counters
            self.burstSizes = burstSizes
            self.maxLength = maxLength
            self.kernel = kernel
        }

        public init(queue: UInt16, values: CounterValues, maxLength: UInt32, kernel: Kernel?) {
            var counters: [String: UInt64] = [:]
            for counter in Counter.allCases { counters[counter.description] = values[counter] }
            self.init(
                queue: queue,
                counters: counters,
                burstSizes: values.burstSizes.counts,
                maxLength: maxLength,
                kernel: kernel
            )
        }

        /// A counter's value (0 when absent).
        public subscript(counter: Counter) -> UInt64 { counters[counter.description] ?? 0 }
    }

    /// The set in force.
    public struct SetFigures: Sendable, Equatable, Codable {
        public var ipv4Entries: Int
        public var ipv6Entries: Int
        /// Number of publishes since start (0: the set loaded at start).
        public var version: UInt64
        /// Unix time it was published (to within the server's one-second observation).
        public var published: Double

        public init(ipv4Entries: Int, ipv6Entries: Int, version: UInt64, published: Double) {
            self.ipv4Entries = ipv4Entries
            self.ipv6Entries = ipv6Entries
            self.version = version
            self.published = published
        }
    }

    /// What was built and is running.
    public struct BuildInfo: Sendable, Equatable, Codable {
        public var version: String
        public var swift: String

        public init(version: String = BuildInfo.version, swift: String = BuildInfo.swiftVersion) {
            self.version = version
            self.swift = swift
        }

        /// The version of exitblock.
        public static let version = "0.1.0"
        /// The compiler's language mode family, from compile-time conditions.
        public static var swiftVersion: String {
            #if compiler(>=6.3)
                return "6.3"
            #elseif compiler(>=6.2)
                return "6.2"
            #else
                return "6.1"
            #endif
        }
    }

    /// Unix time the snapshot was taken.
    public var time: Double
    public var processStart: Double
    public var build: BuildInfo
    public var queues: [Queue]
    public var set: SetFigures
    public var sources: [StatsRecorder.Source]
    /// Refused loads by reason.
    public var refusals: [String: UInt64]
    /// Conntrack invalidation totals; nil unless in flow mode.
    public var conntrack: ConntrackInvalidator.Figures?

    public init(
        time: Double,
        processStart: Double,
        build: BuildInfo = BuildInfo(),
        queues: [Queue],
        set: SetFigures,
        sources: [StatsRecorder.Source],
        refusals: [String: UInt64],
        conntrack: ConntrackInvalidator.Figures? = nil
    ) {
        self.time = time
        self.processStart = processStart
        self.build = build
        self.queues = queues
        self.set = set
        self.sources = sources
        self.refusals = refusals
        self.conntrack = conntrack
    }

    /// Reads everything now. Cost: relaxed loads of the counters, one read of the kernel's
    /// small /proc table, two short locks; nothing that makes a worker wait.
    public static func take(
        engine: Engine,
        recorder: StatsRecorder,
        kernel: [KernelQueueFigures] = KernelQueueFigures.read(),
        now: Double = StatsRecorder.now()
    ) -> MetricsSnapshot {
        let maxLength = engine.configuration.queueTemplate.maxLength
        let queues = engine.counters().map { entry in
            let figures = kernel.first { $0.queue == entry.queue }.map {
                Kernel(
                    waiting: $0.waiting,
                    queueDropped: $0.queueDropped,
                    userDropped: $0.userDropped,
                    portID: $0.portID
                )
            }
            return Queue(queue: entry.queue, values: entry.values, maxLength: maxLength, kernel: figures)
        }
        let version = engine.cell.version
        let snapshot = engine.cell.snapshot
        return MetricsSnapshot(
            time: now,
            processStart: recorder.processStart,
            queues: queues,
            set: SetFigures(
                ipv4Entries: snapshot.ipv4Count,
                ipv6Entries: snapshot.ipv6Count,
                version: version,
                published: recorder.observe(setVersion: version, at: now)
            ),
            sources: recorder.sources,
            refusals: recorder.refusals,
            conntrack: engine.invalidator?.figures
        )
    }

    /// Why the daemon is unhealthy; empty when every queue is bound and a set is loaded.
    public var problems: [String] {
        var problems: [String] = []
        for queue in queues where queue.kernel == nil {
            problems.append("queue \(queue.queue) is not bound")
        }
        if queues.isEmpty { problems.append("no queue configured") }
        if set.ipv4Entries + set.ipv6Entries == 0 { problems.append("no set loaded") }
        return problems
    }

    /// Seconds since the set in force was published.
    public var setAge: Double { max(0, time - set.published) }

    /// Sum over queues of a counter.
    public func total(_ counter: Counter) -> UInt64 {
        queues.reduce(0) { $0 &+ $1[counter] }
    }

    /// Receive calls that returned packets, over all queues: the histogram's total.
    public var totalBursts: UInt64 {
        queues.reduce(0) { $0 &+ $1.burstSizes.reduce(0, &+) }
    }
}
