/// The IPv6 prefixes (length 0 to 127) of an `ExitSet`: one `IPv6HashTable` per distinct
/// length, longest length first. Real lists use few distinct lengths, so a lookup is a handful
/// of hash probes. Memory is released by `deallocate()`, called once by the owning `ExitSet`.
/// Never written after `init` (`@unchecked Sendable`).
@usableFromInline
struct IPv6PrefixTable: @unchecked Sendable {
    /// `count` tables, longest prefix length first.
    @usableFromInline let tables: UnsafeMutablePointer<IPv6HashTable>
    /// The number of distinct lengths (0 when there is no IPv6 prefix).
    @usableFromInline let count: Int

    /// A table of the given prefixes, each masked and of length 0...127.
    init(_ prefixes: [(high: UInt64, low: UInt64, length: UInt8)]) {
        var byLength: [UInt8: [(high: UInt64, low: UInt64)]] = [:]
        for prefix in prefixes {
            byLength[prefix.length, default: []].append((prefix.high, prefix.low))
        }
        let lengths = byLength.keys.sorted(by: >)
        tables = UnsafeMutablePointer<IPv6HashTable>.allocate(capacity: max(lengths.count, 1))
        for (index, length) in lengths.enumerated() {
            (tables + index).initialize(to: IPv6HashTable(byLength[length]!, length: length))
        }
        count = lengths.count
    }

    /// Releases every table. Call once.
    func deallocate() {
        for index in 0..<count { tables[index].deallocate() }
        tables.deinitialize(count: count)
        tables.deallocate()
    }

    /// Whether the address is inside one of the prefixes. Cost: one `IPv6HashTable` probe per
    /// distinct prefix length, nothing when there is no IPv6 prefix. No allocation.
    @inlinable
    @inline(__always)
    func contains(high: UInt64, low: UInt64) -> Bool {
        var index = 0
        while index < count {
            if tables[index].contains(high: high, low: low) { return true }
            index &+= 1
        }
        return false
    }
}
