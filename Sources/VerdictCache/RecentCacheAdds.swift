/// A worker's small memory of the addresses it lately handed to the cache writer, so that a
/// flood from one address (all its packets queued until the kernel has the entry) hands it
/// over once, not once per packet. Direct-mapped, fixed size, no allocation after init;
/// confined to the worker's thread. A slot forgets after `holdNanoseconds` or when another
/// address hashes to it; forgetting only costs a repeated (harmless) add.
public struct RecentCacheAdds {
    public static let slots = 1024
    /// One second: long enough to cover the writer's round trip, short enough that an entry
    /// that timed out in the kernel is renewed soon after its address comes back.
    public static let holdNanoseconds: UInt64 = 1_000_000_000

    @usableFromInline var high: [UInt64]
    @usableFromInline var low: [UInt64]
    /// `generation << 2 | accept << 1 | 1` (0: empty).
    @usableFromInline var tag: [UInt64]
    @usableFromInline var stamp: [UInt64]

    public init() {
        high = [UInt64](repeating: 0, count: Self.slots)
        low = [UInt64](repeating: 0, count: Self.slots)
        tag = [UInt64](repeating: 0, count: Self.slots)
        stamp = [UInt64](repeating: 0, count: Self.slots)
    }

    /// True when the address was handed over within the hold time for the same cache and
    /// generation; otherwise remembers it (as handed over at `now`) and returns false.
    @inlinable
    public mutating func seen(high h: UInt64, low l: UInt64, accept: Bool, generation: UInt64, now: UInt64) -> Bool {
        let mixed = (h ^ l) &* 0x9e37_79b9_7f4a_7c15
        let slot = Int(truncatingIfNeeded: mixed >> 54) & (Self.slots - 1)
        let wanted = generation << 2 | (accept ? 2 : 0) | 1
        if tag[slot] == wanted, high[slot] == h, low[slot] == l, now &- stamp[slot] < Self.holdNanoseconds {
            return true
        }
        high[slot] = h
        low[slot] = l
        tag[slot] = wanted
        stamp[slot] = now
        return false
    }
}
