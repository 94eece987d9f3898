/// An open-addressing set of 128-bit keys: the IPv6 host entries of an `ExitSet`, or all its
/// IPv6 prefixes of one length (keys masked to that length).
///
/// Keys live in one flat `UInt64` array, two words (high, low) per slot; `(0, 0)` marks an
/// empty slot, and whether the all-zero key (`::`, or `::/n`) is a member is kept in
/// `containsZero`. See `TableHash` for the hash and the load factor.
///
/// Memory is allocated in `init` and must be released with `deallocate()` exactly once; the
/// owning `ExitSet` does that in its `deinit`. Never written after `init` (`@unchecked Sendable`).
@usableFromInline
struct IPv6HashTable: @unchecked Sendable {
    /// `2 * capacity` words: the high then the low half of each slot's key.
    @usableFromInline let slots: UnsafeMutablePointer<UInt64>
    /// `capacity - 1`.
    @usableFromInline let mask: Int
    /// `64 - log2(capacity)`.
    @usableFromInline let shift: UInt64
    /// Whether the all-zero key, the empty-slot sentinel, is a member.
    @usableFromInline let containsZero: Bool
    /// The netmask of `length`, applied to a probe before it is looked up.
    @usableFromInline let maskHigh: UInt64
    @usableFromInline let maskLow: UInt64
    /// The prefix length of every key (128 for the host table).
    @usableFromInline let length: UInt8
    /// The number of members.
    @usableFromInline let count: Int

    /// A table of `keys`, which must be distinct and already masked to `length`.
    init(_ keys: [(high: UInt64, low: UInt64)], length: UInt8) {
        let layout = TableHash.layout(for: keys.count)
        let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * layout.capacity)
        slots.initialize(repeating: 0, count: 2 * layout.capacity)
        var containsZero = false
        for key in keys {
            guard key.high != 0 || key.low != 0 else {
                containsZero = true
                continue
            }
            var index = TableHash.slot(high: key.high, low: key.low, shift: layout.shift)
            while slots[2 * index] != 0 || slots[2 * index + 1] != 0 {
                index = (index &+ 1) & (layout.capacity - 1)
            }
            slots[2 * index] = key.high
            slots[2 * index + 1] = key.low
        }
        let netmask = IPPrefix.mask128(length)
        self.slots = slots
        self.mask = layout.capacity - 1
        self.shift = layout.shift
        self.containsZero = containsZero
        self.maskHigh = netmask.high
        self.maskLow = netmask.low
        self.length = length
        self.count = keys.count
    }

    /// Releases the key array. Call once, when no reader can still use the table.
    func deallocate() {
        slots.deallocate()
    }

    /// Whether the address (`high`, `low`), masked to `length`, is a member. Cost: two ANDs,
    /// two multiplies, then on average about 1.2 to 1.4 slot reads (two adjacent words each); no
    /// allocation, no reference counting.
    @inlinable
    @inline(__always)
    func contains(high: UInt64, low: UInt64) -> Bool {
        let high = high & maskHigh
        let low = low & maskLow
        if high == 0 && low == 0 { return containsZero }
        var index = TableHash.slot(high: high, low: low, shift: shift)
        while true {
            let slotHigh = slots[index &* 2]
            let slotLow = slots[index &* 2 &+ 1]
            if slotHigh == high && slotLow == low { return true }
            if slotHigh == 0 && slotLow == 0 { return false }
            index = (index &+ 1) & mask
        }
    }
}
