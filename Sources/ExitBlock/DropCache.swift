import ExitSet
import Foundation
import Rules
import Synchronization

/// The daemon's side of the drop cache (see `RuleSet+DropCache`): checks that the rules and
/// sets are in place, mirrors the allowlist and deletes the entries a publish made wrong, and
/// reads the kernel's figures (entries, and the packets each entry dropped).
///
/// Everything here runs the `ipset` program off the hot path: at start, on each publish, and
/// from a poller thread every second; the workers only set a mark. Only `ipset`: it needs
/// CAP_NET_ADMIN alone, which the daemon keeps, while `iptables-save` of rules with `-m set`
/// opens a raw socket (CAP_NET_RAW) to name the sets.
public final class DropCache: Sendable {
    /// What the kernel holds and did, as last read.
    public struct Figures: Sendable, Equatable {
        /// Packets the cache dropped (or marked for REJECT) in the kernel, by family: the sum
        /// of the entries' counters, each read every second and when a publish deletes it. An
        /// entry that times out takes its last second of hits with it: a lower bound.
        public var kernelDrops: [RuleSettings.Family: UInt64] = [:]
        /// Entries in each family's set.
        public var entries: [RuleSettings.Family: Int] = [:]
        /// The cached addresses with their kernel hit counts (packets since they were added).
        public var members: [DropCacheSets.Member] = []
        /// Publishes that checked the sets.
        public var prunes: UInt64 = 0
        /// Entries deleted because a publish took their address off the list (or allowlisted it).
        public var entriesDeleted: UInt64 = 0
        /// Failed `ipset` runs.
        public var errors: UInt64 = 0

        public init() {}

        /// The sum of `kernelDrops`.
        public var totalKernelDrops: UInt64 { kernelDrops.values.reduce(0, &+) }
        /// The sum of `entries`.
        public var totalEntries: Int { entries.values.reduce(0, +) }
    }

    /// Figures and the last counter seen per entry (to add only what is new).
    private struct State {
        var figures = Figures()
        var lastPackets: [RuleSettings.Family: [IPAddress: UInt64]] = [:]

        /// Adds what each member counted since it was last seen.
        mutating func account(_ family: RuleSettings.Family, _ members: [DropCacheSets.Member], complete: Bool) {
            var seen = complete ? [:] : lastPackets[family, default: [:]]
            var added: UInt64 = 0
            for member in members {
                if let before = lastPackets[family]?[member.address], member.packets >= before {
                    added &+= member.packets - before
                } else {
                    // A new entry (or a smaller count: a new entry for the same address).
                    added &+= member.kernelHits
                }
                seen[member.address] = member.packets
            }
            lastPackets[family] = seen
            figures.kernelDrops[family, default: 0] &+= added
        }
    }

    /// The families whose rules and sets are in place (the workers mark only those).
    public let families: [RuleSettings.Family]
    let sets: DropCacheSets
    private let state = Mutex<State>(State())
    /// The allowlist entries the kernel's mirrors hold (nil: not known yet).
    private let mirrored = Mutex<[IPPrefix]?>(nil)
    private let log: @Sendable (String) -> Void
    private let stopRequested = Atomic<Bool>(false)

    init(families: [RuleSettings.Family], sets: DropCacheSets, log: @escaping @Sendable (String) -> Void) {
        self.families = families
        self.sets = sets
        self.log = log
    }

    /// Finds the families whose drop-cache rules are installed and whose sets exist. The
    /// kernel counts the rules that name a set (`References:` of `ipset list -t`): the
    /// allowlist mirror is named only by the mangle cache rules, the cache set by those and by
    /// the filter rules adding to it, so more references to the cache set than to the mirror
    /// mean a filter rule is there. Nil, with the reason, when no family qualifies: the daemon
    /// must then drop as usual, since a cache mark that no rule turns into a drop would let
    /// the packet through. When `timeout` is given and differs from the sets', the cache sets
    /// are replaced by ones with that timeout.
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
        var missing: [String] = []
        for family in RuleSettings.Family.allCases {
            let name = RuleSet.dropCacheSet(family)
            let allow = RuleSet.dropCacheAllowSet(family)
            guard let cacheReferences = (try? sets.references(name)) ?? nil,
                let allowReferences = (try? sets.references(allow)) ?? nil
            else {
                missing.append("\(family): no set \(name) or \(allow)")
                continue
            }
            guard allowReferences > 0, cacheReferences > allowReferences else {
                missing.append("\(family): the rules using \(name) are not all there")
                continue
            }
            if let timeout {
                let line =
                    "create \(name) hash:ip family \(family == .ipv4 ? "inet" : "inet6") timeout \(timeout) counters"
                do {
                    if try sets.ensure(line) { log("drop cache: \(name) re-created with timeout \(timeout) s") }
                } catch {
                    missing.append("\(family): \(error)")
                    continue
                }
            }
            families.append(family)
        }
        let reason = missing.joined(separator: "; ")
        guard !families.isEmpty else { return (nil, reason) }
        return (DropCache(families: families, sets: sets, log: log), reason)
    }

    /// Brings the kernel's allowlist mirrors up to `allowlist` (a new set filled and swapped
    /// in, so the kernel never sees a half-filled one) unless they already hold it. False
    /// when it failed; then every cache entry must go (a cached address could be dropped on
    /// its way to a peer allowlisted since).
    func mirror(_ allowlist: ExitSet) -> Bool {
        guard mirrored.withLock({ $0 != allowlist.entries }) else { return true }
        var ok = true
        for family in families {
            let name = RuleSet.dropCacheAllowSet(family)
            let temporary = name + "-new"
            let inet = family == .ipv4 ? "inet" : "inet6"
            let entries = allowlist.entries.filter { prefix in
                switch prefix.address {
                case .v4: family == .ipv4
                case .v6: family == .ipv6
                }
            }
            do {
                if try sets.header(temporary) != nil { try sets.restore(["destroy \(temporary)"]) }
                try sets.restore(
                    ["create \(temporary) hash:net family \(inet)"]
                        + entries.map { "add \(temporary) \($0.address)/\($0.length)" }
                        + ["swap \(temporary) \(name)", "destroy \(temporary)"]
                )
            } catch {
                ok = false
                log("drop cache: mirroring the allowlist into \(name): \(error); emptying the cache")
            }
        }
        if ok { mirrored.withLock { $0 = allowlist.entries } }
        return ok
    }

    /// Deletes every entry that no longer holds under the sets just published: an address no
    /// longer listed, or allowlisted. First mirrors the allowlist into the kernel (the cache
    /// rules skip packets whose peer is in it). Called by the engine inside the publish, after
    /// the grace period: every verdict judged with the old sets was sent, so every entry they
    /// made is in the set when it is listed here.
    public func prune(exits: ExitSet, allowlist: ExitSet) {
        var deleted: UInt64 = 0
        var errors: UInt64 = 0
        let mirroredAllowlist = mirror(allowlist)
        if !mirroredAllowlist { errors += 1 }
        for family in families {
            let name = RuleSet.dropCacheSet(family)
            do {
                let members = try sets.members(name)
                // Count their hits before they go.
                state.withLock { $0.account(family, members, complete: false) }
                let stale = members.map(\.address).filter {
                    !mirroredAllowlist || !exits.contains($0) || allowlist.contains($0)
                }
                try sets.delete(stale, from: name)
                deleted += UInt64(stale.count)
            } catch {
                errors += 1
                log("drop cache: pruning \(name): \(error)")
            }
        }
        state.withLock {
            $0.figures.prunes += 1
            $0.figures.entriesDeleted += deleted
            $0.figures.errors += errors
        }
    }

    /// Reads the sets now (one `ipset list` per family).
    public func refresh() {
        var all: [DropCacheSets.Member] = []
        for family in families {
            do {
                let members = try sets.members(RuleSet.dropCacheSet(family))
                all += members
                state.withLock {
                    $0.account(family, members, complete: true)
                    $0.figures.entries[family] = members.count
                }
            } catch {
                state.withLock { $0.figures.errors += 1 }
            }
        }
        state.withLock { $0.figures.members = all }
    }

    /// The figures as last read.
    public var figures: Figures { state.withLock { $0.figures } }

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

    /// Stops the poller and empties the cache sets, as the workers have stopped answering.
    /// With `--queue-bypass` (fail open) cached addresses then pass like all other traffic
    /// while no exitblock runs; without it (fail closed) the queue rule drops them as it drops
    /// everything it matches, so emptying changes nothing there.
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
        for family in families {
            do {
                try sets.restore(["flush \(RuleSet.dropCacheSet(family))"])
            } catch {
                log("drop cache: emptying \(RuleSet.dropCacheSet(family)) at stop: \(error)")
            }
        }
    }
}
