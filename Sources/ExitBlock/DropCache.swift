import ExitSet
import Foundation
import Synchronization

/// The daemon's side of the drop cache (see `RuleSet+DropCache`): checks that the rules and
/// sets are in place, deletes the entries a publish made wrong, and reads the kernel's
/// figures (cached drops from the rule counters, entries and per-address hits from the sets).
///
/// Everything here runs programs (`ipset`, `iptables-save`) off the hot path: at start, on
/// each publish, and from a poller thread every `interval`; the workers only set a mark.
public final class DropCache: Sendable {
    /// What the kernel holds and did, as last read.
    public struct Figures: Sendable, Equatable {
        /// Packets dropped (or marked for REJECT) by the cache rules in mangle, per family
        /// (the rules' own counters; they restart from 0 when the rules are installed again).
        public var kernelDrops: [RuleSettings.Family: UInt64] = [:]
        /// Entries in each family's set.
        public var entries: [RuleSettings.Family: Int] = [:]
        /// The cached addresses with their kernel hit counts (packets since they were added).
        public var members: [DropCacheSets.Member] = []
        /// Publishes that checked the sets.
        public var prunes: UInt64 = 0
        /// Entries deleted because a publish took their address off the list (or allowlisted it).
        public var entriesDeleted: UInt64 = 0
        /// Failed program runs (listing, deleting, reading counters).
        public var errors: UInt64 = 0

        public init() {}

        /// The sum of `kernelDrops`.
        public var totalKernelDrops: UInt64 { kernelDrops.values.reduce(0, &+) }
        /// The sum of `entries`.
        public var totalEntries: Int { entries.values.reduce(0, +) }
    }

    /// The families whose rules and set are in place (the policy marks only those).
    public let families: [RuleSettings.Family]
    /// The queue rules have `--queue-bypass` (fail open): `stop` then empties the sets, so
    /// that cached addresses pass like every other packet while no exitblock runs.
    public let failOpen: Bool
    let sets: DropCacheSets
    /// iptables-save of each family, for the mangle rule counters.
    let saveTools: [RuleSettings.Family: String]
    let runner: any CommandRunning
    private let state = Mutex<Figures>(Figures())
    private let log: @Sendable (String) -> Void
    private let stopRequested = Atomic<Bool>(false)

    init(
        families: [RuleSettings.Family],
        sets: DropCacheSets,
        saveTools: [RuleSettings.Family: String],
        runner: any CommandRunning,
        failOpen: Bool,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.families = families
        self.failOpen = failOpen
        self.sets = sets
        self.saveTools = saveTools
        self.runner = runner
        self.log = log
    }

    /// Finds the families whose drop-cache rules are installed (a filter EXITBLOCK rule adding
    /// to the family's set, through either iptables backend) and whose set exists. Nil, with
    /// the reason, when there is none: the daemon must then drop as usual, since a cache mark
    /// that no rule turns into a drop would let the packet through. When `timeout` is given
    /// and differs from the sets', the sets are replaced by ones with that timeout.
    public static func probe(
        timeout: UInt32?,
        runner: any CommandRunning = ProcessRunner(),
        log: @escaping @Sendable (String) -> Void
    ) -> (cache: DropCache?, reason: String) {
        let sets: DropCacheSets
        do {
            sets = try DropCacheSets.locate(runner: runner)
        } catch {
            return (nil, "\(error)")
        }
        var families: [RuleSettings.Family] = []
        var saveTools: [RuleSettings.Family: String] = [:]
        var missing: [String] = []
        var failOpen = false
        for family in RuleSettings.Family.allCases {
            let name = RuleSet.dropCacheSet(family)
            guard (try? sets.header(name)) ?? nil != nil else {
                missing.append("\(family): no set \(name)")
                continue
            }
            var found: String?
            for backend in [RuleSettings.Backend.nft, .legacy] {
                guard let tools = try? IptablesTools.locate(backend, families: [family], runner: runner),
                    let table = try? RuleInstaller(tools: tools, runner: runner).table(family, RuleSet.rejectTable)
                else { continue }
                if table.rules(of: RuleSet.chain).contains(where: { $0.spec.contains("--add-set \(name) ") }) {
                    found = tools.save[family]
                    let mangle = try? RuleInstaller(tools: tools, runner: runner).table(family, RuleSet.queueTable)
                    failOpen =
                        failOpen
                        || (mangle?.rules(of: RuleSet.chain).contains { $0.spec.contains("--queue-bypass") } ?? false)
                    break
                }
            }
            guard let found else {
                missing.append("\(family): no filter rule adds to \(name)")
                continue
            }
            if let timeout {
                let line = "create \(name) hash:ip family \(family == .ipv4 ? "inet" : "inet6") timeout \(timeout) counters"
                do {
                    if try sets.ensure(line) { log("drop cache: \(name) re-created with timeout \(timeout) s") }
                } catch {
                    missing.append("\(family): \(error)")
                    continue
                }
            }
            families.append(family)
            saveTools[family] = found
        }
        let reason = missing.joined(separator: "; ")
        guard !families.isEmpty else { return (nil, reason) }
        let cache = DropCache(
            families: families,
            sets: sets,
            saveTools: saveTools,
            runner: runner,
            failOpen: failOpen,
            log: log
        )
        return (cache, reason)
    }

    /// Deletes every entry that no longer holds under the sets just published: an address no
    /// longer listed, and every entry while an allowlist is in force (workers add none then,
    /// since a cached address is dropped whatever its peer). Called by the engine inside the
    /// publish, after the grace period: every verdict judged with the old sets was sent, so
    /// every entry they made is in the set when it is listed here.
    public func prune(exits: ExitSet, allowlist: ExitSet) {
        var deleted: UInt64 = 0
        var errors: UInt64 = 0
        for family in families {
            let name = RuleSet.dropCacheSet(family)
            do {
                let stale = try sets.members(name).map(\.address).filter {
                    allowlist.count > 0 || !exits.contains($0)
                }
                try sets.delete(stale, from: name)
                deleted += UInt64(stale.count)
            } catch {
                errors += 1
                log("drop cache: pruning \(name): \(error)")
            }
        }
        state.withLock {
            $0.prunes += 1
            $0.entriesDeleted += deleted
            $0.errors += errors
        }
    }

    /// Reads the sets and the rule counters now (a few program runs).
    public func refresh() {
        var entries: [RuleSettings.Family: Int] = [:]
        var drops: [RuleSettings.Family: UInt64] = [:]
        var members: [DropCacheSets.Member] = []
        var errors: UInt64 = 0
        for family in families {
            do {
                let found = try sets.members(RuleSet.dropCacheSet(family))
                entries[family] = found.count
                members += found
                if let save = saveTools[family] {
                    let result = try runner.run(save, ["-c", "-t", RuleSet.queueTable], input: nil)
                    drops[family] = DropCache.cachedDrops(inSave: result.output, set: RuleSet.dropCacheSet(family))
                }
            } catch {
                errors += 1
            }
        }
        state.withLock {
            $0.entries = entries
            $0.kernelDrops = drops
            $0.members = members
            $0.errors += errors
        }
    }

    /// The sum of the packet counters of the mangle rules that match `set` (`[P:B] -A EXITBLOCK
    /// … --match-set SET …`) in `iptables-save -c` output.
    static func cachedDrops(inSave text: String, set: String) -> UInt64 {
        var total: UInt64 = 0
        for line in text.split(separator: "\n") where line.hasPrefix("[") && line.contains("--match-set \(set) ") {
            guard line.contains("-A \(RuleSet.chain) "), let close = line.firstIndex(of: "]") else { continue }
            let counts = line[line.index(after: line.startIndex)..<close].split(separator: ":")
            if let packets = counts.first.flatMap({ UInt64($0) }) { total &+= packets }
        }
        return total
    }

    /// The figures as last read.
    public var figures: Figures { state.withLock { $0 } }

    /// Starts a thread that calls `refresh` every `interval` seconds until `stop`.
    public func startPolling(interval: Double = 1) {
        let thread = Thread { [self] in
            while !stopRequested.load(ordering: .relaxed) {
                refresh()
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread.name = "exitblock-cache"
        thread.start()
    }

    /// Stops the poller (it notices within one interval). Fail open (`--queue-bypass`):
    /// empties the sets, as the workers have stopped answering; fail closed: leaves them,
    /// so cached addresses stay dropped until their entries time out (and the queue rule
    /// drops everything else it matches meanwhile).
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
        guard failOpen else { return }
        for family in families {
            do {
                try sets.restore(["flush \(RuleSet.dropCacheSet(family))"])
            } catch {
                log("drop cache: emptying \(RuleSet.dropCacheSet(family)) at stop: \(error)")
            }
        }
    }
}
