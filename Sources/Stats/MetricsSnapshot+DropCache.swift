import Engine
import Rules
import VerdictCache
extension MetricsSnapshot {
    /// The drop cache's figures as the kernel last reported them (see `DropCache`): what was
    /// decided in the kernel, next to the workers' counters of what was decided in user space.
    public struct DropCacheFigures: Sendable, Equatable, Codable {
        /// Packets the cache dropped (or marked for REJECT) in the kernel, by family.
        public var kernelDropsIPv4: UInt64
        public var kernelDropsIPv6: UInt64
        /// Addresses in the cache now, by family.
        public var entriesIPv4: Int
        public var entriesIPv6: Int
        /// Publishes that pruned the cache, and entries they deleted.
        public var prunes: UInt64
        public var entriesDeleted: UInt64
        /// Failed `ipset` runs, failed netlink sends and refused adds.
        public var errors: UInt64
        /// Addresses the daemon put into the drop sets (new entries and renewals).
        public var adds: UInt64
        /// Addresses judged with sets a publish had replaced, not added.
        public var staleAdds: UInt64
        /// The accept cache's figures; nil when it is off.
        public var accept: AcceptCacheFigures?

        public init(_ figures: DropCache.Figures) {
            kernelDropsIPv4 = figures.kernelDrops[.ipv4] ?? 0
            kernelDropsIPv6 = figures.kernelDrops[.ipv6] ?? 0
            entriesIPv4 = figures.entries[.ipv4] ?? 0
            entriesIPv6 = figures.entries[.ipv6] ?? 0
            prunes = figures.prunes
            entriesDeleted = figures.entriesDeleted
            errors = figures.errors
            adds = figures.adds
            staleAdds = figures.staleAdds
            accept = figures.accept.map(AcceptCacheFigures.init)
        }

        /// Both families' kernel drops.
        public var kernelDrops: UInt64 { kernelDropsIPv4 &+ kernelDropsIPv6 }
    }

    /// The accept cache's figures (see `DropCache.AcceptFigures`).
    public struct AcceptCacheFigures: Sendable, Equatable, Codable {
        /// Packets of cached clean addresses accepted in the kernel, never queued, by family.
        public var kernelAcceptsIPv4: UInt64
        public var kernelAcceptsIPv6: UInt64
        /// Addresses in the cache now, by family.
        public var entriesIPv4: Int
        public var entriesIPv6: Int
        /// Addresses the daemon put in (new entries and renewals).
        public var adds: UInt64
        /// Adds the kernel refused because the set was full (those packets stay queued).
        public var full: UInt64
        /// Entries deleted because a publish listed their address.
        public var entriesDeleted: UInt64

        public init(_ figures: DropCache.AcceptFigures) {
            kernelAcceptsIPv4 = figures.kernelAccepts[.ipv4] ?? 0
            kernelAcceptsIPv6 = figures.kernelAccepts[.ipv6] ?? 0
            entriesIPv4 = figures.entries[.ipv4] ?? 0
            entriesIPv6 = figures.entries[.ipv6] ?? 0
            adds = figures.adds
            full = figures.full
            entriesDeleted = figures.entriesDeleted
        }

        /// Both families' kernel accepts.
        public var kernelAccepts: UInt64 { kernelAcceptsIPv4 &+ kernelAcceptsIPv6 }
    }

    /// `top` with each cached address's kernel hits added (the packets dropped in the kernel
    /// while it was cached), most first, `limit` long. Hits of entries that expired are gone,
    /// so the figures stay lower bounds.
    static func merging(
        _ top: [TopListedTable.Entry],
        kernelHits members: [DropCacheSets.Member],
        limit: Int
    ) -> [TopListedTable.Entry] {
        guard !members.isEmpty else { return top }
        var packets: [String: UInt64] = [:]
        for entry in top { packets[entry.address, default: 0] &+= entry.packets }
        for member in members where member.kernelHits > 0 {
            packets["\(member.address)", default: 0] &+= member.kernelHits
        }
        let merged = packets.map { TopListedTable.Entry(address: $0.key, packets: $0.value) }
        return Array(
            merged.sorted { ($0.packets, $1.address) > ($1.packets, $0.address) }.prefix(limit)
        )
    }
}
