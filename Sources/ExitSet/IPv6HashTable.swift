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
    /// `capacity` values, one per slot (the port policy index of each key; 0 when not given).
    @usableFromInline let values: UnsafeMutablePointer<UInt16>
    /// The value of the all-zero key.
    @usableFromInline let zeroValue: UInt16

    /// A table of `keys`, which must be distinct and already masked to `length`, with
    /// `values[i]` stored for `keys[i]` (0 for every key when `values` is empty).
    init(_ keys: [(high: UInt64, low: UInt64)], length: UInt8, values keyValues: [UInt16] = []) {
        precondition(keyValues.isEmpty || keyValues.count == keys.count)
        let layout = TableHash.layout(for: keys.count)
        let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * layout.capacity)
        slots.initialize(repeating: 0, count: 2 * layout.capacity)
        let values = UnsafeMutablePointer<UInt16>.allocate(capacity: layout.capacity)
        values.initialize(repeating: 0, count: layout.capacity)
        var containsZero = false
        var zeroValue: UInt16 = 0
        for (position, key) in keys.enumerated() {
            let value = keyValues.isEmpty ? 0 : keyValues[position]
            guard key.high != 0 || key.low != 0 else {
                containsZero = true
                zeroValue = value
                continue
            }
            var index = TableHash.slot(high: key.high, low: key.low, shift: layout.shift)
            while slots[2 * index] != 0 || slots[2 * index + 1] != 0 {
                index = (index &+ 1) & (layout.capacity - 1)
            }
            slots[2 * index] = key.high
            slots[2 * index + 1] = key.low
            values[index] = value
        }
        let netmask = IPPrefix.mask128(length)
        self.slots = slots
        self.values = values
        self.zeroValue = zeroValue
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
        values.deallocate()
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

    /// The value stored with the address (`high`, `low`) masked to `length`, or -1 when it is
    /// not a member. Cost: that of `contains` plus one read of the value array on a hit.
    @inlinable
    @inline(__always)
    func value(high: UInt64, low: UInt64) -> Int {
        let high = high & maskHigh
        let low = low & maskLow
        if high == 0 && low == 0 { return containsZero ? Int(zeroValue) : -1 }
        var index = TableHash.slot(high: high, low: low, shift: shift)
        while true {
            let slotHigh = slots[index &* 2]
            let slotLow = slots[index &* 2 &+ 1]
            if slotHigh == high && slotLow == low { return Int(values[index]) }
            if slotHigh == 0 && slotLow == 0 { return -1 }
            index = (index &+ 1) & mask
        }
    }
}
