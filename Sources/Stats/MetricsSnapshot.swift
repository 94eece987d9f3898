import BGPFeed
import Engine
import ExitSet
import LinuxSystem
import NetfilterQueue
import Rules
import VerdictCache

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

    /// One queue. In JSON, `counters` holds `CounterValues.keyed` and `burstSizes` the
    /// histogram read from them.
    public struct Queue: Sendable, Equatable, Codable {
        public var queue: UInt16
        /// The workers' counters, summed.
        public var values: CounterValues
        /// Packets the kernel holds at most for this queue.
        public var maxLength: UInt32
        /// Nil when the kernel does not list the queue as bound.
        public var kernel: Kernel?
        /// Seconds since the worker lost the queue's binding (it is binding it again); nil
        /// while the queue is bound.
        public var unboundSeconds: Double?

        public init(
            queue: UInt16,
            values: CounterValues,
            maxLength: UInt32,
            kernel: Kernel?,
            unboundSeconds: Double? = nil
        ) {
            self.queue = queue
            self.values = values
            self.maxLength = maxLength
            self.kernel = kernel
            self.unboundSeconds = unboundSeconds
        }

        /// Whether the queue is bound by this process (its worker's view, which the worker
        /// checks against the kernel's table).
        public var bound: Bool { unboundSeconds == nil }

        /// Bursts per size class (not cumulative), as `BurstSizeCounts.counts`.
        public var burstSizes: [UInt64] { values.burstSizes.counts }

        /// A counter's value (for a per-family counter, the sum over families).
        public subscript(counter: Counter) -> UInt64 { values[counter] }

        /// One family's value of a per-family counter.
        public subscript(counter: Counter, family: PacketFamily) -> UInt64 { values[counter, family] }

        private enum CodingKeys: String, CodingKey {
            case queue, counters, burstSizes, maxLength, kernel, bound, unboundSeconds
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            queue = try container.decode(UInt16.self, forKey: .queue)
            values = CounterValues(keyed: try container.decode([String: UInt64].self, forKey: .counters))
            maxLength = try container.decode(UInt32.self, forKey: .maxLength)
            kernel = try container.decodeIfPresent(Kernel.self, forKey: .kernel)
            unboundSeconds = try container.decodeIfPresent(Double.self, forKey: .unboundSeconds)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(queue, forKey: .queue)
            try container.encode(values.keyed, forKey: .counters)
            try container.encode(burstSizes, forKey: .burstSizes)
            try container.encode(maxLength, forKey: .maxLength)
            try container.encodeIfPresent(kernel, forKey: .kernel)
            try container.encode(bound, forKey: .bound)
            try container.encodeIfPresent(unboundSeconds, forKey: .unboundSeconds)
        }
    }

    /// The set in force.
    public struct SetFigures: Sendable, Equatable, Codable {
        public var ipv4Entries: Int
        public var ipv6Entries: Int
        /// Number of publishes since start (0: the set loaded at start).
        public var version: UInt64
        /// Unix time it was published (to within the server's one-second observation).
        public var published: Double
        /// Sets rebuilt from the sources and published by the refresher since start.
        public var rebuilds: UInt64

        public init(ipv4Entries: Int, ipv6Entries: Int, version: UInt64, published: Double, rebuilds: UInt64 = 0) {
            self.ipv4Entries = ipv4Entries
            self.ipv6Entries = ipv6Entries
            self.version = version
            self.published = published
            self.rebuilds = rebuilds
        }
    }

    /// How packets are judged (`exitblock run --match/--reject/--dry-run`) and the allowlist.
    public struct PolicyFigures: Sendable, Equatable, Codable {
        /// `source`, `destination` or `both`.
        public var match: String
        /// What a listed packet gets: `drop`, `reject`, or `accept` in dry-run.
        public var action: String
        public var dryRun: Bool
        /// The mark of rejected packets, nil unless rejecting.
        public var rejectMark: UInt32?
        /// Entries of the allowlist in force.
        public var allowlistIPv4Entries: Int
        public var allowlistIPv6Entries: Int

        public init(
            match: String = MatchDirection.source.rawValue,
            action: String = "drop",
            dryRun: Bool = false,
            rejectMark: UInt32? = nil,
            allowlistIPv4Entries: Int = 0,
            allowlistIPv6Entries: Int = 0
        ) {
            self.match = match
            self.action = action
            self.dryRun = dryRun
            self.rejectMark = rejectMark
            self.allowlistIPv4Entries = allowlistIPv4Entries
            self.allowlistIPv6Entries = allowlistIPv6Entries
        }

        public init(_ policy: Policy, allowlist: ExitSet) {
            var rejectMark: UInt32?
            if case .reject(let mark, _) = policy.action { rejectMark = mark }
            self.init(
                match: policy.match.rawValue,
                action: policy.dryRun ? "accept" : (rejectMark == nil ? "drop" : "reject"),
                dryRun: policy.dryRun,
                rejectMark: rejectMark,
                allowlistIPv4Entries: allowlist.ipv4Count,
                allowlistIPv6Entries: allowlist.ipv6Count
            )
        }
    }

    /// How many listed addresses `take` reports in `topListed`.
    public static let topListedLimit = 10

    /// What was built and is running.
    public struct BuildInfo: Sendable, Equatable, Codable {
        public var version: String
        public var swift: String
        /// `git describe` of the build ("" when the build did not say; see BuildInfo+Commit.swift).
        public var commit: String

        public init(
            version: String = BuildInfo.version,
            swift: String = BuildInfo.swiftVersion,
            commit: String = BuildInfo.commit
        ) {
            self.version = version
            self.swift = swift
            self.commit = commit
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
    /// Whether the kernel's queue table could be read. When it cannot (a daemon started as a
    /// non-root user), `kernel` is nil for every queue and says nothing about binding.
    public var kernelTableReadable: Bool
    public var policy: PolicyFigures
    /// The listed addresses with the most packets (dropped, rejected, or in dry-run would be),
    /// over every queue, most first.
    public var topListed: [TopListedTable.Entry]
    /// Conntrack invalidation totals; nil unless in flow mode.
    public var conntrack: ConntrackInvalidator.Figures?
    /// The BGP feed's figures; nil unless this is `exitblock bgp` (which has no queue).
    public var bgp: BGPFigures?
    /// Drop cache figures; nil when the cache is off.
    public var dropCache: DropCacheFigures?
    /// The rule watch's figures; nil when the rules are not watched.
    public var rules: RuleWatchFigures?

    public init(
        time: Double,
        processStart: Double,
        build: BuildInfo = BuildInfo(),
        queues: [Queue],
        set: SetFigures,
        sources: [StatsRecorder.Source],
        refusals: [String: UInt64],
        kernelTableReadable: Bool = true,
        policy: PolicyFigures = PolicyFigures(),
        topListed: [TopListedTable.Entry] = [],
        conntrack: ConntrackInvalidator.Figures? = nil,
        bgp: BGPFigures? = nil,
        dropCache: DropCacheFigures? = nil,
        rules: RuleWatchFigures? = nil
    ) {
        self.time = time
        self.processStart = processStart
        self.build = build
        self.queues = queues
        self.set = set
        self.sources = sources
        self.refusals = refusals
        self.kernelTableReadable = kernelTableReadable
        self.policy = policy
        self.topListed = topListed
        self.conntrack = conntrack
        self.bgp = bgp
        self.dropCache = dropCache
        self.rules = rules
    }

    /// Reads everything now. Cost: relaxed loads of the counters, one read of the kernel's
    /// small /proc table, two short locks; nothing that makes a worker wait.
    public static func take(
        engine: Engine,
        recorder: StatsRecorder,
        kernel: [KernelQueueFigures]? = KernelQueueTable.readNow(),
        now: Double = WallClock.now()
    ) -> MetricsSnapshot {
        let maxLength = engine.configuration.queueTemplate.maxLength
        let unbound = engine.unboundSeconds()
        let queues = engine.counters().map { entry in
            let figures = kernel?.first { $0.queue == entry.queue }.map {
                Kernel(
                    waiting: $0.waiting,
                    queueDropped: $0.queueDropped,
                    userDropped: $0.userDropped,
                    portID: $0.portID
                )
            }
            return Queue(
                queue: entry.queue,
                values: entry.values,
                maxLength: maxLength,
                kernel: figures,
                unboundSeconds: unbound.first { $0.queue == entry.queue }?.seconds
            )
        }
        let version = engine.setVersion
        let sets = engine.cell.snapshot
        let snapshot = sets.exits
        let cache = engine.dropCache?.figures
        return MetricsSnapshot(
            time: now,
            processStart: recorder.processStart,
            queues: queues,
            set: SetFigures(
                ipv4Entries: snapshot.ipv4Count,
                ipv6Entries: snapshot.ipv6Count,
                version: version,
                published: recorder.observe(setVersion: version, at: now),
                rebuilds: recorder.rebuilds
            ),
            sources: recorder.sources,
            refusals: recorder.refusals,
            kernelTableReadable: kernel != nil,
            policy: PolicyFigures(engine.configuration.policy, allowlist: sets.allowlist),
            topListed: merging(
                engine.topListed(limit: topListedLimit),
                kernelHits: cache?.members ?? [],
                limit: topListedLimit
            ),
            conntrack: engine.invalidator?.figures,
            dropCache: cache.map(DropCacheFigures.init)
        )
    }

    /// How long a queue may be without a binding before the daemon is unhealthy: a rebind
    /// takes milliseconds; one refused for longer (another process holds the queue) is a fault.
    public static let unboundLimitSeconds = 1.0

    /// Why the daemon is unhealthy; empty when every queue is bound and a set is loaded.
    public var problems: [String] {
        var problems: [String] = []
        // The worker's view of its binding, which it checks against the kernel's table.
        for queue in queues {
            guard let seconds = queue.unboundSeconds, seconds > Self.unboundLimitSeconds else { continue }
            // Rounded up, so that "more than the limit" never prints as the limit itself.
            problems.append("queue \(queue.queue) unbound for \(Self.tenths((seconds * 10).rounded(.up) / 10)) s")
        }
        if queues.isEmpty && bgp == nil { problems.append("no queue configured") }
        if let bgp, bgp.syncs == 0 { problems.append("the BGP speaker has taken no update yet") }
        if set.ipv4Entries + set.ipv6Entries == 0 { problems.append("no set loaded") }
        problems += rules?.problems ?? []
        for source in sources where !source.loaded {
            let why = source.lastError.isEmpty ? "" : " (last error: \(source.lastError))"
            problems.append("source \(source.path) has no version in force\(why)")
        }
        return problems
    }

    /// What is wrong without making the daemon unhealthy (it still judges with the set in
    /// force): sources whose version in force is older than their maximum age.
    public var warnings: [String] {
        sources.compactMap { source in
            guard isStale(source), let age = age(of: source) else { return nil }
            return "source \(source.path) is stale: its last good version is \(Self.hours(age)) old "
                + "(max-source-age \(Self.hours(source.maxAge)))"
        }
    }

    /// Whether the version in force of `source` is older than its maximum age (a source
    /// without a version in force is a problem, not a staleness).
    public func isStale(_ source: StatsRecorder.Source) -> Bool {
        guard source.maxAge > 0, let age = age(of: source) else { return false }
        return age > source.maxAge
    }

    /// A non-negative number with one decimal: "1.4".
    static func tenths(_ value: Double) -> String {
        let tenths = Int((max(0, value) * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// Seconds as "2h05m", "45m" or "30s".
    static func hours(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m" }
        let minutes = (whole / 60) % 60
        return "\(whole / 3600)h" + (minutes < 10 ? "0" : "") + "\(minutes)m"
    }

    /// Seconds since the set in force was published.
    public var setAge: Double { max(0, time - set.published) }

    /// Seconds since the version in force of `source` was read, fetched or confirmed; nil
    /// when it has none.
    public func age(of source: StatsRecorder.Source) -> Double? {
        source.loaded && source.lastSuccess > 0 ? max(0, time - source.lastSuccess) : nil
    }

    /// Sum over queues of a counter.
    public func total(_ counter: Counter) -> UInt64 {
        queues.reduce(0) { $0 &+ $1[counter] }
    }

    /// Sum over queues of one family's value of a per-family counter.
    public func total(_ counter: Counter, _ family: PacketFamily) -> UInt64 {
        queues.reduce(0) { $0 &+ $1[counter, family] }
    }

    /// Receive calls that returned packets, over all queues: the histogram's total.
    public var totalBursts: UInt64 {
        queues.reduce(0) { $0 &+ $1.burstSizes.reduce(0, &+) }
    }
}
