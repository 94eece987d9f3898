/// An immutable snapshot of the exit set: the listed addresses and prefixes, ready for lookup.
///
/// Built once, off the hot path (building sorts the entries and fills the tables: about a
/// millisecond per 10,000 entries, plus a 2 MiB bitmap when there are IPv4 prefixes of /24 or
/// shorter). After `init` nothing is written, so any number of threads may read one snapshot
/// at the same time without locks.
///
/// Lookup structures:
/// - IPv4 hosts (`/32`) and IPv6 hosts (`/128`): open-addressing hash sets with multiplicative
///   hashing, load factor at most 0.25 (0.5 past 65,536 keys), linear probing, keys in flat
///   arrays.
/// - IPv4 prefixes: one bit per /24 for prefixes up to /24, a per-/24 bitmap table for /25–/31.
/// - IPv6 prefixes: one hash set per distinct prefix length, of the masked keys.
///
/// The hot-path lookups `contains(ipv4:)` and `contains(ipv6High:ipv6Low:)` are `@inlinable`:
/// they inline into the caller's module and touch only raw memory owned by this object, so a
/// lookup allocates nothing, retains nothing and dispatches nothing.
public final class ExitSet: Sendable {
    /// The distinct entries, sorted: numeric order, IPv4 before IPv6, and at the same address
    /// the shorter prefix first.
    public let entries: [IPPrefix]
    /// The number of distinct IPv4 entries (hosts and prefixes).
    public let ipv4Count: Int
    /// The number of distinct IPv6 entries (hosts and prefixes).
    public let ipv6Count: Int

    @usableFromInline let ipv4Hosts: IPv4HashTable
    @usableFromInline let ipv4Prefixes: IPv4PrefixTable
    @usableFromInline let ipv6Hosts: IPv6HashTable
    @usableFromInline let ipv6Prefixes: IPv6PrefixTable

    /// The set of `entries`; duplicates are dropped.
    public init(_ entries: some Sequence<IPPrefix>) {
        var sorted = Array(entries)
        sorted.sort()
        var unique: [IPPrefix] = []
        unique.reserveCapacity(sorted.count)
        for entry in sorted where unique.last != entry {
            unique.append(entry)
        }

        var ipv4HostKeys: [UInt32] = []
        var ipv4PrefixKeys: [(address: UInt32, length: UInt8)] = []
        var ipv6HostKeys: [(high: UInt64, low: UInt64)] = []
        var ipv6PrefixKeys: [(high: UInt64, low: UInt64, length: UInt8)] = []
        for entry in unique {
            switch entry.address {
            case .v4(let address):
                if entry.length == 32 {
                    ipv4HostKeys.append(address.value)
                } else {
                    ipv4PrefixKeys.append((address.value, entry.length))
                }
            case .v6(let address):
                if entry.length == 128 {
                    ipv6HostKeys.append((address.high, address.low))
                } else {
                    ipv6PrefixKeys.append((address.high, address.low, entry.length))
                }
            }
        }
        self.entries = unique
        self.ipv4Count = ipv4HostKeys.count + ipv4PrefixKeys.count
        self.ipv6Count = ipv6HostKeys.count + ipv6PrefixKeys.count
        self.ipv4Hosts = IPv4HashTable(ipv4HostKeys)
        self.ipv4Prefixes = IPv4PrefixTable(ipv4PrefixKeys)
        self.ipv6Hosts = IPv6HashTable(ipv6HostKeys, length: 128)
        self.ipv6Prefixes = IPv6PrefixTable(ipv6PrefixKeys)
    }

    deinit {
        ipv4Hosts.deallocate()
        ipv4Prefixes.deallocate()
        ipv6Hosts.deallocate()
        ipv6Prefixes.deallocate()
    }

    /// The set with no entry.
    public static let empty = ExitSet([])

    /// The number of distinct entries.
    public var count: Int { entries.count }

    /// Whether the IPv4 address (host byte order, `1.2.3.4` == `0x01020304`) is listed, as a
    /// host or inside a prefix.
    ///
    /// HOT PATH. Cost: one hash probe of the host table (one multiply, ~1.2–1.4 reads of a
    /// table that stays in cache for typical exit lists: 32 KiB for 2,000 hosts); when the set has IPv4 prefixes, also one
    /// read of a 2 MiB bitmap and, with /25–/31 prefixes, one more hash probe. No allocation,
    /// no reference counting, no dynamic dispatch.
    @inlinable
    public func contains(ipv4 address: UInt32) -> Bool {
        if ipv4Hosts.contains(address) { return true }
        if ipv4Prefixes.isEmpty { return false }
        return ipv4Prefixes.contains(address)
    }

    /// Whether the IPv6 address with the given halves (host order, first eight bytes in
    /// `ipv6High`) is listed, as a host or inside a prefix. An IPv4-mapped address is looked up
    /// as IPv6 only; such addresses do not appear as packet addresses on the wire (use
    /// `contains(_:)` to have them normalized).
    ///
    /// HOT PATH. Cost: one hash probe of the host table (two multiplies, ~1.2–1.4 slot reads), plus
    /// one probe per distinct IPv6 prefix length in the set (none in the common all-host case).
    /// No allocation, no reference counting, no dynamic dispatch.
    @inlinable
    public func contains(ipv6High high: UInt64, ipv6Low low: UInt64) -> Bool {
        if ipv6Hosts.contains(high: high, low: low) { return true }
        return ipv6Prefixes.contains(high: high, low: low)
    }

    /// Whether `address` is listed. An IPv4-mapped IPv6 address is looked up as IPv4.
    /// Cost: that of `contains(ipv4:)` or `contains(ipv6High:ipv6Low:)`.
    public func contains(_ address: IPAddress) -> Bool {
        switch address.normalized {
        case .v4(let v4): contains(ipv4: v4.value)
        case .v6(let v6): contains(ipv6High: v6.high, ipv6Low: v6.low)
        }
    }

    /// The most specific listed entry that contains `address` (the host entry if the host is
    /// listed, else the longest matching prefix), or nil. For diagnostics (`exitblock check`),
    /// not for the hot path: up to 33 (IPv4) or 129 (IPv6) binary searches of `entries`.
    public func match(_ address: IPAddress) -> IPPrefix? {
        let address = address.normalized
        let longest: UInt8
        switch address {
        case .v4: longest = 32
        case .v6: longest = 128
        }
        for length in (0...longest).reversed() {
            let candidate = IPPrefix(address, length: length)
            if isListed(candidate) { return candidate }
        }
        return nil
    }

    /// Binary search of `entries`.
    private func isListed(_ prefix: IPPrefix) -> Bool {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle] < prefix {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low < entries.count && entries[low] == prefix
    }
}
