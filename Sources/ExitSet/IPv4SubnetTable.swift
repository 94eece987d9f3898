/// The second level of the IPv4 prefix lookup: for every /24 that holds a prefix of length 25
/// to 31, a 256-bit map with one bit per address of that /24.
///
/// Open addressing keyed by the /24 number (`address >> 8`, below 2^24), so `UInt32.max` can
/// mark an empty slot without a special case. Each slot has four `UInt64` words of bits.
/// Memory is allocated in `init` and released by `deallocate()`, called once by the owning
/// `ExitSet`. Never written after `init` (`@unchecked Sendable`).
@usableFromInline
struct IPv4SubnetTable: @unchecked Sendable {
    /// `capacity` keys (/24 numbers), `UInt32.max` for an empty slot.
    @usableFromInline let keys: UnsafeMutablePointer<UInt32>
    /// `4 * capacity` words: the address bitmap of each slot.
    @usableFromInline let bits: UnsafeMutablePointer<UInt64>
    /// `capacity - 1`.
    @usableFromInline let mask: Int
    /// `64 - log2(capacity)`.
    @usableFromInline let shift: UInt64
    /// The number of /24s with bits.
    @usableFromInline let count: Int

    static let empty: UInt32 = .max

    /// A table of the given IPv4 prefixes, each of length 25...31 (masked).
    init(_ prefixes: [(address: UInt32, length: UInt8)]) {
        var maps: [UInt32: (UInt64, UInt64, UInt64, UInt64)] = [:]
        for prefix in prefixes {
            precondition(prefix.length >= 25 && prefix.length <= 31)
            let first = Int(prefix.address & 0xFF)
            let size = 1 << (32 - Int(prefix.length))
            var map = maps[prefix.address >> 8] ?? (0, 0, 0, 0)
            for host in first..<(first + size) {
                let bit = UInt64(1) << UInt64(host & 63)
                switch host >> 6 {
                case 0: map.0 |= bit
                case 1: map.1 |= bit
                case 2: map.2 |= bit
                default: map.3 |= bit
                }
            }
            maps[prefix.address >> 8] = map
        }
        let layout = TableHash.layout(for: maps.count)
        let keys = UnsafeMutablePointer<UInt32>.allocate(capacity: layout.capacity)
        keys.initialize(repeating: IPv4SubnetTable.empty, count: layout.capacity)
        let bits = UnsafeMutablePointer<UInt64>.allocate(capacity: 4 * layout.capacity)
        bits.initialize(repeating: 0, count: 4 * layout.capacity)
        for (key, map) in maps {
            var index = TableHash.slot(key, shift: layout.shift)
            while keys[index] != IPv4SubnetTable.empty { index = (index &+ 1) & (layout.capacity - 1) }
            keys[index] = key
            bits[4 * index] = map.0
            bits[4 * index + 1] = map.1
            bits[4 * index + 2] = map.2
            bits[4 * index + 3] = map.3
        }
        self.keys = keys
        self.bits = bits
        self.mask = layout.capacity - 1
        self.shift = layout.shift
        self.count = maps.count
    }

    /// Releases the arrays. Call once, when no reader can still use the table.
    func deallocate() {
        keys.deallocate()
        bits.deallocate()
    }

    /// Whether `address` is inside one of the /25–/31 prefixes. Cost: one multiply, about 1.3
    /// key reads, one bitmap word read on a hit of the /24; no allocation.
    @inlinable
    @inline(__always)
    func contains(_ address: UInt32) -> Bool {
        let key = address &>> 8
        var index = TableHash.slot(key, shift: shift)
        while true {
            let slot = keys[index]
            if slot == key {
                let host = Int(truncatingIfNeeded: address & 0xFF)
                return bits[index &* 4 &+ (host &>> 6)] & (1 &<< UInt64(truncatingIfNeeded: host & 63)) != 0
            }
            if slot == UInt32.max { return false }
            index = (index &+ 1) & mask
        }
    }
}
