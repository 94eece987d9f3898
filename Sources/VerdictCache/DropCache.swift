import ExitSet
import Foundation
import Rules
import Synchronization

/// The daemon's side of the verdict caches (see `RuleSet+DropCache`): the drop cache and the
/// accept cache, in the ipsets of `rules install` or in the nf_tables sets of the `rules show
/// --nft` ruleset (`CacheBackend`). Checks that the rules and sets are in place, owns the
/// writer thread that adds the workers' addresses through netlink (`CacheWriter`: ipset
/// netlink or nf_tables batches), mirrors the allowlist and deletes the entries a publish
/// made wrong, and reads the kernel's figures (entries, and the packets each entry dropped or
/// accepted).
///
/// Every kernel operation is netlink, and no program is started: adds from the writer thread,
/// the rest off the hot path (at start: `DropCache+Probe`; on each publish: `+Prune` and
/// `+AllowlistMirror`; every second: `+CounterPoller`). CAP_NET_ADMIN is all it needs.
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
        /// Failed netlink requests and adds the kernel refused.
        public var errors: UInt64 = 0
        /// Addresses the writer put into the drop sets (new entries and renewals).
        public var adds: UInt64 = 0
        /// Addresses judged with sets a publish had replaced, thrown away by the writer.
        public var staleAdds: UInt64 = 0
        /// The accept cache's figures; nil when it is off.
        public var accept: AcceptFigures?

        public init() {}

        /// The sum of `kernelDrops`.
        public var totalKernelDrops: UInt64 { kernelDrops.values.reduce(0, &+) }
        /// The sum of `entries`.
        public var totalEntries: Int { entries.values.reduce(0, +) }
    }

    /// The accept cache's figures.
    public struct AcceptFigures: Sendable, Equatable {
        /// Packets the accept cache accepted in the kernel, by family (as `kernelDrops`).
        public var kernelAccepts: [RuleSettings.Family: UInt64] = [:]
        /// Entries in each family's set.
        public var entries: [RuleSettings.Family: Int] = [:]
        /// Addresses the writer put into the accept sets.
        public var adds: UInt64 = 0
        /// Adds the kernel refused because the set was full (those packets stay queued).
        public var full: UInt64 = 0
        /// Entries deleted because a publish listed their address.
        public var entriesDeleted: UInt64 = 0

        public init() {}

        /// The sum of `kernelAccepts`.
        public var totalKernelAccepts: UInt64 { kernelAccepts.values.reduce(0, &+) }
        /// The sum of `entries`.
        public var totalEntries: Int { entries.values.reduce(0, +) }
    }

    /// Figures and the last counter seen per entry (to add only what is new).
    struct State {
        var figures = Figures()
        var lastPackets: [String: [IPAddress: UInt64]] = [:]
        /// Calls of `refresh`.
        var refreshes: UInt64 = 0
        /// The refresh that reads the accept sets' members next.
        var nextAcceptRead: UInt64 = 0

        /// Adds what each member of set `name` counted since it was last seen; returns it.
        mutating func account(_ name: String, _ members: [DropCacheSets.Member], complete: Bool) -> UInt64 {
            var seen = complete ? [:] : lastPackets[name, default: [:]]
            var added: UInt64 = 0
            for member in members {
                if let before = lastPackets[name]?[member.address], member.packets >= before {
                    added &+= member.packets - before
                } else {
                    // A new entry (or a smaller count: a new entry for the same address).
                    added &+= member.kernelHits
                }
                seen[member.address] = member.packets
            }
            lastPackets[name] = seen
            return added
        }

        mutating func accountDrops(_ family: RuleSettings.Family, _ members: [DropCacheSets.Member], complete: Bool) {
            let added = account("drop-\(family)", members, complete: complete)
            figures.kernelDrops[family, default: 0] &+= added
        }

        mutating func accountAccepts(_ family: RuleSettings.Family, _ members: [DropCacheSets.Member], complete: Bool) {
            let added = account("accept-\(family)", members, complete: complete)
            figures.accept?.kernelAccepts[family, default: 0] &+= added
        }
    }

    /// Refreshes per read of the accept sets' members (every 5 s with the 1 s poll).
    static let acceptMembersEvery: UInt64 = 5
    /// The accept sets' members are read no more often than every `acceptReadShare` times the
    /// seconds the last read took (at most 5% of the poller's time).
    static let acceptReadShare = 20.0

    /// The families whose drop-cache rules and sets are in place (the workers hand over
    /// listed addresses of those only).
    public let families: [RuleSettings.Family]
    /// The families whose accept-cache rules and sets are in place.
    public let acceptFamilies: [RuleSettings.Family]
    let sets: any CacheSetStore
    /// The thread adding the workers' addresses to the sets.
    public let writer: CacheWriter
    let state = Mutex<State>(State())
    /// The allowlist entries the kernel's mirrors hold (nil: not known yet).
    let mirrored = Mutex<[IPPrefix]?>(nil)
    let log: @Sendable (String) -> Void
    let stopRequested = Atomic<Bool>(false)

    init(
        families: [RuleSettings.Family],
        acceptFamilies: [RuleSettings.Family] = [],
        sets: any CacheSetStore,
        writer: CacheWriter,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.families = families
        self.acceptFamilies = acceptFamilies
        self.sets = sets
        self.writer = writer
        self.log = log
        if !acceptFamilies.isEmpty { state.withLock { $0.figures.accept = AcceptFigures() } }
    }

    /// What the daemon asks of the caches at start.
    public struct Wanted: Sendable, Equatable {
        /// Use the drop cache.
        public var drop = true
        /// Re-create the drop sets with this timeout when theirs differs; nil: keep theirs.
        public var dropTimeout: UInt32?
        /// Use the accept cache (the CLI asks for it in packet mode only).
        public var accept = true
        /// Re-create the accept sets with this timeout when theirs differs; nil: keep theirs.
        public var acceptTimeout: UInt32?
        /// Re-create the accept sets with this size (maxelem) when theirs differs.
        public var acceptSize: UInt32?

        public init() {}
    }

    /// The name of `kind`'s set of `family` in the backend's naming.
    func setName(_ kind: CacheBackend.Kind, _ family: RuleSettings.Family) -> String {
        sets.backend.name(kind, family)
    }

    /// Which kernel sets the caches live in.
    public var backend: CacheBackend { sets.backend }

    /// The figures as last read, with the writer's counts.
    public var figures: Figures {
        let written = writer.figures
        var figures = state.withLock { $0.figures }
        figures.adds = written.dropAdds
        figures.staleAdds = written.stale
        figures.errors &+= written.errors &+ written.overflow
        figures.accept?.adds = written.acceptAdds
        figures.accept?.full = written.acceptFull
        return figures
    }

    /// Stops the writer and the poller and empties the cache sets, as the workers have
    /// stopped answering: the cached decisions then follow the queue rule's choice. With
    /// `--queue-bypass` (fail open) cached addresses pass like all other traffic while no
    /// exitblock runs; without it (fail closed) the queue rule drops everything it matches,
    /// and an accept entry left in place would let its address through.
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
        writer.stop()
        let names = families.map { setName(.drop, $0) } + acceptFamilies.map { setName(.accept, $0) }
        for name in names {
            do {
                try sets.flush(name)
            } catch {
                log("verdict cache: emptying \(name) at stop: \(error)")
            }
        }
    }
}
