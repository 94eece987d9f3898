/// The IPv4 prefixes (length 0 to 31) of an `ExitSet`.
///
/// Prefixes of length 24 or less are expanded into a bitmap with one bit per /24: 2^24 bits,
/// 2 MiB, allocated only when there is such a prefix. Prefixes of length 25 to 31 go to an
/// `IPv4SubnetTable` keyed by their /24. Memory is released by `deallocate()`, called once by
/// the owning `ExitSet`. Never written after `init` (`@unchecked Sendable`).
@usableFromInline
struct IPv4PrefixTable: @unchecked Sendable {
    /// 2^18 words, bit `n` set when the /24 number `n` is covered; nil without short prefixes.
    @usableFromInline let bitmap: UnsafeMutablePointer<UInt64>?
    /// The /25–/31 prefixes.
    @usableFromInline let subnets: IPv4SubnetTable
    /// Whether there is no prefix at all (then `contains` is never needed).
    @usableFromInline let isEmpty: Bool

    static let bitmapWords = 1 << 18

    /// A table of the given prefixes, each masked and of length 0...31.
    init(_ prefixes: [(address: UInt32, length: UInt8)]) {
        let short = prefixes.filter { $0.length <= 24 }
        if short.isEmpty {
            bitmap = nil
        } else {
            let words = UnsafeMutablePointer<UInt64>.allocate(capacity: IPv4PrefixTable.bitmapWords)
            words.initialize(repeating: 0, count: IPv4PrefixTable.bitmapWords)
            for prefix in short {
                let first = Int(prefix.address >> 8)
                IPv4PrefixTable.setBits(words, from: first, count: 1 << (24 - Int(prefix.length)))
            }
            bitmap = words
        }
        subnets = IPv4SubnetTable(prefixes.filter { $0.length > 24 })
        isEmpty = prefixes.isEmpty
    }

    /// Sets `count` bits starting at bit `first`, a whole word at a time where it can.
    private static func setBits(_ words: UnsafeMutablePointer<UInt64>, from first: Int, count: Int) {
        var bit = first
        let end = first + count
        while bit < end {
            if bit & 63 == 0 && end - bit >= 64 {
                words[bit >> 6] = .max
                bit += 64
            } else {
                words[bit >> 6] |= 1 << UInt64(bit & 63)
                bit += 1
            }
        }
    }

    /// Releases the bitmap and the subnet table. Call once.
    func deallocate() {
        bitmap?.deallocate()
        subnets.deallocate()
    }

    /// Whether `address` is inside one of the prefixes. Cost: one bitmap word read (likely a
    /// cache miss: the bitmap is 2 MiB), then, only if there are /25–/31 prefixes and the bit is
    /// clear, one `IPv4SubnetTable` probe. No allocation.
    @inlinable
    @inline(__always)
    func contains(_ address: UInt32) -> Bool {
        if let bitmap {
            let slash24 = Int(truncatingIfNeeded: address &>> 8)
            if bitmap[slash24 &>> 6] & (1 &<< UInt64(truncatingIfNeeded: slash24 & 63)) != 0 { return true }
        }
        return subnets.count != 0 && subnets.contains(address)
    }
}
