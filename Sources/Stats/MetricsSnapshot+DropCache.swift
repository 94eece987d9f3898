import ExitBlock
import Rules
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
        /// Failed `ipset` runs.
        public var errors: UInt64

        public init(_ figures: DropCache.Figures) {
            kernelDropsIPv4 = figures.kernelDrops[.ipv4] ?? 0
            kernelDropsIPv6 = figures.kernelDrops[.ipv6] ?? 0
            entriesIPv4 = figures.entries[.ipv4] ?? 0
            entriesIPv6 = figures.entries[.ipv6] ?? 0
            prunes = figures.prunes
            entriesDeleted = figures.entriesDeleted
            errors = figures.errors
        }

        /// Both families' kernel drops.
        public var kernelDrops: UInt64 { kernelDropsIPv4 &+ kernelDropsIPv6 }
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
