import ExitSet
import LinuxSystem
import NetfilterQueue
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
/// Adds go through netlink from the writer thread; the rest runs the `ipset` (or `nft`)
/// program off the hot path: at start, on each publish, and from a poller thread every
/// second (nft deletions go through netlink too). Only `ipset`: it needs CAP_NET_ADMIN
/// alone, which the daemon keeps, while `iptables-save` of rules with `-m set` opens a raw
/// socket (CAP_NET_RAW) to name the sets.
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
        /// Failed `ipset` runs, failed netlink sends and adds the kernel refused.
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
    private struct State {
        var figures = Figures()
        var lastPackets: [String: [IPAddress: UInt64]] = [:]
        /// Calls of `refresh`.
        var refreshes: UInt64 = 0

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

    /// The families whose drop-cache rules and sets are in place (the workers hand over
    /// listed addresses of those only).
    public let families: [RuleSettings.Family]
    /// The families whose accept-cache rules and sets are in place.
    public let acceptFamilies: [RuleSettings.Family]
    let sets: any CacheSetStore
    /// The thread adding the workers' addresses to the sets.
    let writer: CacheWriter
    private let state = Mutex<State>(State())
    /// The allowlist entries the kernel's mirrors hold (nil: not known yet).
    private let mirrored = Mutex<[IPPrefix]?>(nil)
    private let log: @Sendable (String) -> Void
    private let stopRequested = Atomic<Bool>(false)

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

    /// What a probe found in place: the families of each cache and the timeouts their adds get.
    struct Found {
        var families: [RuleSettings.Family] = []
        var acceptFamilies: [RuleSettings.Family] = []
        var dropTimeout: UInt32 = 60
        var acceptTimeout: UInt32 = 60
        var missing: [String] = []

        var isEmpty: Bool { families.isEmpty && acceptFamilies.isEmpty }
    }

    /// Finds the families whose cache rules are installed and whose sets exist, and opens the
    /// netlink socket the writer adds through. First the ipsets of `rules install`; where
    /// neither cache has a family there, the nf_tables sets of the `rules show --nft` ruleset
    /// (`table inet exitblock`). A set no rule names is not used (adding to it would be
    /// harmless, but the packets would still all be queued). Nil, with the reasons, when
    /// neither backend has a family of either cache.
    public static func probe(
        _ wanted: Wanted,
        runner: any CommandRunning = ProcessRunner(),
        log: @escaping @Sendable (String) -> Void
    ) -> (cache: DropCache?, reason: String) {
        var ipsetReason: String
        do {
            let sets = try DropCacheSets.locate(runner: runner)
            let found = probeIpsets(wanted, sets: sets, log: log)
            ipsetReason = found.missing.joined(separator: "; ")
            if !found.isEmpty {
                do {
                    let client = try IpsetClient()
                    // Used by the writer thread alone; the lock is never contended, it only makes that sound.
                    let guarded = Mutex(client)
                    let cache = make(found, sets: sets, log: log) { requests in
                        try guarded.withLock { client throws(IpsetError) in try client.add(requests) }
                    }
                    return (cache, ipsetReason)
                } catch {
                    return (nil, "\(error)")
                }
            }
        } catch {
            ipsetReason = "\(error)"
        }
        var nftReason = ""
        do {
            let sets = try NftablesSets.locate(runner: runner)
            let found = try probeNftables(wanted, sets: sets, log: log)
            nftReason = found.missing.joined(separator: "; ")
            if !found.isEmpty {
                // Two sockets: the writer thread's (adds), and the publish's (deletes).
                let store = try NftCacheSetStore(sets: sets)
                let guarded = Mutex(try NftSetClient(table: sets.table))
                let cache = make(found, sets: store, log: log) { requests in
                    try guarded.withLock { client throws(NftSetError) in try client.add(requests) }
                }
                return (cache, nftReason)
            }
        } catch {
            nftReason = "\(error)"
        }
        return (nil, "ipsets: \(ipsetReason.isEmpty ? "none" : ipsetReason); nftables: \(nftReason)")
    }

    /// A cache over `sets` whose writer sends through `add`.
    private static func make(
        _ found: Found,
        sets: any CacheSetStore,
        log: @escaping @Sendable (String) -> Void,
        add: @escaping CacheWriter.Sink
    ) -> DropCache {
        let writer = CacheWriter(
            targets: CacheWriter.Targets(
                dropTimeout: found.dropTimeout,
                acceptTimeout: found.acceptTimeout,
                backend: sets.backend
            ),
            sink: add,
            log: log
        )
        return DropCache(
            families: found.families,
            acceptFamilies: found.acceptFamilies,
            sets: sets,
            writer: writer,
            log: log
        )
    }

    /// The ipsets' side of `probe`. The kernel counts the rules that name a set (`References:`
    /// of `ipset list -t`). A timeout or size given that differs from a set's replaces the set
    /// by one with it (its entries are lost, which only costs judging them again).
    static func probeIpsets(_ wanted: Wanted, sets: DropCacheSets, log: @Sendable (String) -> Void) -> Found {
        var found = Found()
        found.dropTimeout = wanted.dropTimeout ?? 60
        found.acceptTimeout = wanted.acceptTimeout ?? 60
        for family in RuleSettings.Family.allCases where wanted.drop {
            let name = RuleSet.dropCacheSet(family)
            let allow = RuleSet.dropCacheAllowSet(family)
            guard let cacheReferences = (try? sets.references(name)) ?? nil,
                let allowReferences = (try? sets.references(allow)) ?? nil
            else {
                found.missing.append("\(family): no set \(name) or \(allow)")
                continue
            }
            guard allowReferences > 0, cacheReferences > 0 else {
                found.missing.append("\(family): no rule uses \(name)")
                continue
            }
            if let timeout = wanted.dropTimeout {
                let line =
                    "create \(name) hash:ip family \(family == .ipv4 ? "inet" : "inet6") timeout \(timeout) counters"
                do {
                    if try sets.ensure(line) { log("drop cache: \(name) re-created with timeout \(timeout) s") }
                } catch {
                    found.missing.append("\(family): \(error)")
                    continue
                }
            } else if let header = try? sets.header(name), let timeout = DropCacheSets.timeout(inHeader: header) {
                found.dropTimeout = timeout
            }
            found.families.append(family)
        }
        for family in RuleSettings.Family.allCases where wanted.accept {
            let name = RuleSet.acceptCacheSet(family)
            guard let references = (try? sets.references(name)) ?? nil else {
                found.missing.append("\(family): no set \(name)")
                continue
            }
            guard references > 0 else {
                found.missing.append("\(family): no rule uses \(name)")
                continue
            }
            if wanted.acceptTimeout != nil || wanted.acceptSize != nil {
                let header = (try? sets.header(name)) ?? nil
                let timeout = wanted.acceptTimeout ?? header.flatMap(DropCacheSets.timeout(inHeader:)) ?? 60
                let size = wanted.acceptSize ?? header.flatMap(DropCacheSets.maxelem(inHeader:)) ?? 262_144
                let line = RuleSet.acceptCacheCreateLine(family, timeout: timeout, size: size)
                do {
                    if try sets.ensure(line) {
                        log("accept cache: \(name) re-created with timeout \(timeout) s, size \(size)")
                    }
                } catch {
                    found.missing.append("\(family): \(error)")
                    continue
                }
                found.acceptTimeout = timeout
            } else if let header = try? sets.header(name), let timeout = DropCacheSets.timeout(inHeader: header) {
                found.acceptTimeout = timeout
            }
            found.acceptFamilies.append(family)
        }
        return found
    }

    /// The nf_tables side of `probe`: the sets of `table inet exitblock` that exist and that a
    /// rule of the table names (`@drop4`). Every add carries its own timeout, so a timeout
    /// given applies without touching the set; a size given that differs from the set's is
    /// only logged (an nf_tables set's size is fixed: load the ruleset with the new size).
    static func probeNftables(
        _ wanted: Wanted,
        sets: NftablesSets,
        log: @Sendable (String) -> Void
    ) throws(RulesError) -> Found {
        var found = Found()
        guard let table = try sets.tableText() else {
            found.missing.append("no table inet \(sets.table)")
            return found
        }
        var dropTimeout: UInt32?
        var acceptTimeout: UInt32?
        for family in RuleSettings.Family.allCases where wanted.drop {
            let name = NftablesSets.dropSet(family)
            let allow = NftablesSets.allowSet(family)
            guard let listing = try sets.list(name), try sets.list(allow) != nil else {
                found.missing.append("\(family): no set \(name) or \(allow) in table inet \(sets.table)")
                continue
            }
            guard NftablesSets.rules(in: table, use: name), NftablesSets.rules(in: table, use: allow) else {
                found.missing.append("\(family): no rule uses \(name)")
                continue
            }
            dropTimeout = dropTimeout ?? listing.timeout
            found.families.append(family)
        }
        for family in RuleSettings.Family.allCases where wanted.accept {
            let name = NftablesSets.acceptSet(family)
            guard let listing = try sets.list(name) else {
                found.missing.append("\(family): no set \(name) in table inet \(sets.table)")
                continue
            }
            guard NftablesSets.rules(in: table, use: name) else {
                found.missing.append("\(family): no rule uses \(name)")
                continue
            }
            if let size = wanted.acceptSize, listing.size != size {
                log("accept cache: \(name) keeps its size \(listing.size.map(String.init) ?? "(none)"), not \(size)")
            }
            acceptTimeout = acceptTimeout ?? listing.timeout
            found.acceptFamilies.append(family)
        }
        found.dropTimeout = wanted.dropTimeout ?? dropTimeout ?? 60
        found.acceptTimeout = wanted.acceptTimeout ?? acceptTimeout ?? 60
        return found
    }

    /// The name of `kind`'s set of `family` in the backend's naming.
    func setName(_ kind: CacheBackend.Kind, _ family: RuleSettings.Family) -> String {
        sets.backend.name(kind, family)
    }

    /// Which kernel sets the caches live in.
    public var backend: CacheBackend { sets.backend }

    /// Brings the kernel's allowlist mirrors up to `allowlist` (swapped in whole, so the
    /// kernel never sees a half-filled one) unless they already hold it. False when it
    /// failed; then every cache entry must go (a cached address could be dropped on its way
    /// to a peer allowlisted since).
    func mirror(_ allowlist: ExitSet) -> Bool {
        guard mirrored.withLock({ $0 != allowlist.entries }) else { return true }
        var ok = true
        for family in families {
            let name = setName(.allow, family)
            let entries = allowlist.entries.filter { prefix in
                switch prefix.address {
                case .v4: family == .ipv4
                case .v6: family == .ipv6
                }
            }
            do {
                try sets.mirror(entries, into: name, family: family)
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
    /// made is in the set when it is listed here, and the writer throws away what was judged
    /// with the old sets (`CacheWriter.retire`).
    ///
    /// The accept sets lose every entry whose address is now listed. That covers the
    /// allowlist too: an allowlisted address is never put in the accept cache (only `.accept`
    /// decisions are), and one that leaves the allowlist was cached only if unlisted, which
    /// the listed test checks.
    public func prune(exits: ExitSet, allowlist: ExitSet) {
        var deleted: UInt64 = 0
        var errors: UInt64 = 0
        var acceptDeleted: UInt64 = 0
        for family in acceptFamilies {
            let name = setName(.accept, family)
            do {
                let members = try sets.members(name)
                state.withLock { $0.accountAccepts(family, members, complete: false) }
                let stale = members.map(\.address).filter { exits.contains($0) }
                try sets.delete(stale, from: name)
                acceptDeleted += UInt64(stale.count)
            } catch {
                errors += 1
                log("accept cache: pruning \(name): \(error)")
            }
        }
        state.withLock { $0.figures.accept?.entriesDeleted += acceptDeleted }
        let mirroredAllowlist = families.isEmpty ? true : mirror(allowlist)
        if !mirroredAllowlist { errors += 1 }
        for family in families {
            let name = setName(.drop, family)
            do {
                let members = try sets.members(name)
                // Count their hits before they go.
                state.withLock { $0.accountDrops(family, members, complete: false) }
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

    /// Reads the sets now (one `ipset list` or `nft list set` per set).
    public func refresh() {
        var all: [DropCacheSets.Member] = []
        for family in families {
            do {
                let members = try sets.members(setName(.drop, family))
                all += members
                state.withLock {
                    $0.accountDrops(family, members, complete: true)
                    $0.figures.entries[family] = members.count
                }
            } catch {
                state.withLock { $0.figures.errors += 1 }
            }
        }
        // The accept sets may hold hundreds of thousands of entries: their members (for the
        // kernel's accept counts) are read every `acceptMembersEvery` refreshes, their size
        // (one header line) every time.
        let readMembers = state.withLock { state -> Bool in
            state.refreshes &+= 1
            return state.refreshes % DropCache.acceptMembersEvery == 1
        }
        for family in acceptFamilies {
            let name = setName(.accept, family)
            do {
                if readMembers {
                    let members = try sets.members(name)
                    state.withLock {
                        $0.accountAccepts(family, members, complete: true)
                        $0.figures.accept?.entries[family] = members.count
                    }
                } else if let count = try sets.entryCount(name) {
                    state.withLock { $0.figures.accept?.entries[family] = count }
                }
            } catch {
                state.withLock { $0.figures.errors += 1 }
            }
        }
        state.withLock { $0.figures.members = all }
    }

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

    /// Starts the writer thread, and a thread that calls `refresh` every `interval` seconds
    /// until `stop`.
    public func startPolling(interval: Double = 1) {
        writer.start()
        SystemThread.start(name: "exitblock-cache") { [self] in
            while !stopRequested.load(ordering: .relaxed) {
                refresh()
                SystemThread.sleep(seconds: interval)
            }
        }
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
