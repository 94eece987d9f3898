/// The multiplicative hashing shared by the open-addressing tables of `ExitSet`.
///
/// A key is multiplied by an odd 64-bit constant and the top `log2(capacity)` bits of the
/// product pick the home slot (Fibonacci hashing). Capacities are powers of two and at least 16.
/// Tables of up to 65,536 keys (every real exit list) get at least four slots per key (load
/// factor at most 0.25): a miss, the common case on the hot path, then ends after about 1.4
/// slot reads instead of 2.5, for a few extra KiB. Larger tables get at least two slots per key
/// (load factor at most 0.5). Collisions probe linearly.
@usableFromInline
enum TableHash {
    /// 2^64 divided by the golden ratio, rounded to odd.
    @inlinable
    static var multiplier: UInt64 { 0x9E37_79B9_7F4A_7C15 }

    /// A second odd constant, to mix the two halves of an IPv6 key.
    @inlinable
    static var mixer: UInt64 { 0xC2B2_AE3D_27D4_EB4F }

    /// The home slot of a 32-bit key. Cost: one multiply and one shift.
    @inlinable
    @inline(__always)
    static func slot(_ key: UInt32, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (UInt64(key) &* multiplier) &>> shift)
    }

    /// The home slot of a 128-bit key. Cost: two multiplies, a xor and a shift.
    @inlinable
    @inline(__always)
    static func slot(high: UInt64, low: UInt64, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (((high &* multiplier) ^ low) &* mixer) &>> shift)
    }

    /// The capacity (a power of two, see the type) for `count` keys, and the shift that turns
    /// a 64-bit product into a slot index of that capacity.
    static func layout(for count: Int) -> (capacity: Int, shift: UInt64) {
        let slotsPerKey = count <= 1 << 16 ? 4 : 2
        var bits = 4
        while (1 << bits) < slotsPerKey * count { bits += 1 }
        return (1 << bits, UInt64(64 - bits))
    }
}
