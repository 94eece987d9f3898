/// How many bursts of each size class were answered. Classes double in width: 1, 2-3, 4-7,
/// 8-15, 16-31, 32-63, 64 and more packets. The workers count them as the seven `bursts…`
/// counters (`CounterValues.burstSizes` reads them back as this value).
public struct BurstSizeCounts: Sendable, Equatable, Codable {
    /// Number of size classes.
    public static let bucketCount = 7
    /// Largest size of each class but the last, which is open ended (Prometheus `le` bounds).
    public static let upperBounds: [Int] = [1, 3, 7, 15, 31, 63]

    /// Bursts per class, not cumulative; always `bucketCount` long.
    public var counts: [UInt64]

    public init(counts: [UInt64] = Array(repeating: 0, count: BurstSizeCounts.bucketCount)) {
        precondition(counts.count == Self.bucketCount, "BurstSizeCounts needs \(Self.bucketCount) counts")
        self.counts = counts
    }

    /// The class of a burst of `size` packets: floor(log2(size)), capped at the last class.
    /// Cost: one leading-zero count and a compare.
    @inline(__always)
    public static func bucket(forSize size: Int) -> Int {
        let log2 = Int.bitWidth &- 1 &- max(size, 1).leadingZeroBitCount
        return min(log2, bucketCount &- 1)
    }

    /// Total bursts.
    public var total: UInt64 { counts.reduce(0, &+) }
}
