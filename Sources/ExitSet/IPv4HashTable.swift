/// An open-addressing set of IPv4 addresses (the host entries of an `ExitSet`).
///
/// Keys live in one flat `UInt32` array; `0` (the address `0.0.0.0`) marks an empty slot, and
/// whether `0.0.0.0` itself is a member is kept in `containsZero`. See `TableHash` for the
/// hash and the load factor.
///
/// Memory is allocated in `init` and must be released with `deallocate()` exactly once; the
/// owning `ExitSet` does that in its `deinit`. The table is never written after `init`, so
/// reading it from many threads is safe (hence `@unchecked Sendable`).
@usableFromInline
struct IPv4HashTable: @unchecked Sendable {
    /// `capacity` keys, `0` for an empty slot.
    @usableFromInline let slots: UnsafeMutablePointer<UInt32>
    /// `capacity - 1`.
    @usableFromInline let mask: Int
    /// `64 - log2(capacity)`.
    @usableFromInline let shift: UInt64
    /// Whether `0.0.0.0`, the empty-slot sentinel, is a member.
    @usableFromInline let containsZero: Bool
    /// The number of members.
    @usableFromInline let count: Int
    /// `capacity` values, one per slot (the port policy index of each key; 0 when not given).
    @usableFromInline let values: UnsafeMutablePointer<UInt16>
    /// The value of `0.0.0.0`.
    @usableFromInline let zeroValue: UInt16

    /// A table holding `keys`, which must be distinct, with `values[i]` stored for `keys[i]`
    /// (0 for every key when `values` is empty).
    init(_ keys: [UInt32], values keyValues: [UInt16] = []) {
        precondition(keyValues.isEmpty || keyValues.count == keys.count)
        let layout = TableHash.layout(for: keys.count)
        let slots = UnsafeMutablePointer<UInt32>.allocate(capacity: layout.capacity)
        slots.initialize(repeating: 0, count: layout.capacity)
        let values = UnsafeMutablePointer<UInt16>.allocate(capacity: layout.capacity)
        values.initialize(repeating: 0, count: layout.capacity)
        var containsZero = false
        var zeroValue: UInt16 = 0
        for (position, key) in keys.enumerated() {
            let value = keyValues.isEmpty ? 0 : keyValues[position]
            guard key != 0 else {
                containsZero = true
                zeroValue = value
                continue
            }
            var index = TableHash.slot(key, shift: layout.shift)
            while slots[index] != 0 { index = (index &+ 1) & (layout.capacity - 1) }
            slots[index] = key
            values[index] = value
        }
        self.slots = slots
        self.values = values
        self.zeroValue = zeroValue
        self.mask = layout.capacity - 1
        self.shift = layout.shift
        self.containsZero = containsZero
        self.count = keys.count
    }

    /// Releases the key array. Call once, when no reader can still use the table.
    func deallocate() {
        slots.deallocate()
        values.deallocate()
    }

    /// Whether `key` is a member. Cost: one multiply, then on average about 1.2 (hit) to 1.4
    /// (miss) reads of adjacent slots at a load factor of 0.25, about 1.5 to 2.5 at 0.5; no
    /// allocation, no reference counting.
    @inlinable
    @inline(__always)
    func contains(_ key: UInt32) -> Bool {
        if key == 0 { return containsZero }
        var index = TableHash.slot(key, shift: shift)
        while true {
            let slot = slots[index]
            if slot == key { return true }
            if slot == 0 { return false }
            index = (index &+ 1) & mask
        }
    }

    /// The value stored with `key`, or -1 when it is not a member. Cost: that of `contains`
    /// plus one read of the parallel value array on a hit.
    @inlinable
    @inline(__always)
    func value(_ key: UInt32) -> Int {
        if key == 0 { return containsZero ? Int(zeroValue) : -1 }
        var index = TableHash.slot(key, shift: shift)
        while true {
            let slot = slots[index]
            if slot == key { return Int(values[index]) }
            if slot == 0 { return -1 }
            index = (index &+ 1) & mask
        }
    }
}
