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
/// Port policies: each host entry carries the port policy of its family (`PortPolicy`, from a
/// consensus `p` line or Onionoo's summaries); an entry without one, and every prefix entry,
/// covers all ports. The host tables hold a 16-bit policy index per slot and the policies sit
/// in shared two-level bitmaps (`PortPolicyTable`); `match(ipv4:port:)` and
/// `match(ipv6High:ipv6Low:port:)` answer with one more read or two. At most `policyLimit`
/// distinct policies are kept; entries of any further policy cover all ports.
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
    @usableFromInline let portPolicies: PortPolicyTable
    /// The policies by index, for diagnostics (`policy(of:)`); index 0 is `PortPolicy.all`.
    private let policyObjects: [PortPolicy]

    /// The most distinct port policies one set keeps (1 KiB of block numbers each, and at
    /// most 8 KiB of blocks): the real consensus has 209 (exit mode) and 584 (relay mode).
    /// Host entries of further policies cover all ports (blocked as without policies), so a
    /// hostile document cannot make a set large.
    public static let policyLimit = 1024

    /// The set of `entries`; duplicates are dropped. A host entry found in `policies` carries
    /// that port policy; every other entry covers all ports.
    public init(_ entries: some Sequence<IPPrefix>, policies: [IPPrefix: PortPolicy] = [:]) {
        var sorted = Array(entries)
        sorted.sort()
        var unique: [IPPrefix] = []
        unique.reserveCapacity(sorted.count)
        for entry in sorted where unique.last != entry {
            unique.append(entry)
        }

        var policyList: [PortPolicy] = [.all]
        var policyIndex: [PortPolicy: UInt16] = [.all: 0]
        func index(of prefix: IPPrefix) -> UInt16 {
            guard !policies.isEmpty, let policy = policies[prefix], !policy.isAll else { return 0 }
            if let known = policyIndex[policy] { return known }
            guard policyList.count < ExitSet.policyLimit else { return 0 }
            let index = UInt16(policyList.count)
            policyList.append(policy)
            policyIndex[policy] = index
            return index
        }
        var ipv4HostKeys: [UInt32] = []
        var ipv4HostValues: [UInt16] = []
        var ipv6HostValues: [UInt16] = []
        var ipv4PrefixKeys: [(address: UInt32, length: UInt8)] = []
        var ipv6HostKeys: [(high: UInt64, low: UInt64)] = []
        var ipv6PrefixKeys: [(high: UInt64, low: UInt64, length: UInt8)] = []
        for entry in unique {
            switch entry.address {
            case .v4(let address):
                if entry.length == 32 {
                    ipv4HostKeys.append(address.value)
                    ipv4HostValues.append(index(of: entry))
                } else {
                    ipv4PrefixKeys.append((address.value, entry.length))
                }
            case .v6(let address):
                if entry.length == 128 {
                    ipv6HostKeys.append((address.high, address.low))
                    ipv6HostValues.append(index(of: entry))
                } else {
                    ipv6PrefixKeys.append((address.high, address.low, entry.length))
                }
            }
        }
        self.entries = unique
        self.ipv4Count = ipv4HostKeys.count + ipv4PrefixKeys.count
        self.ipv6Count = ipv6HostKeys.count + ipv6PrefixKeys.count
        self.ipv4Hosts = IPv4HashTable(ipv4HostKeys, values: policyList.count > 1 ? ipv4HostValues : [])
        self.ipv4Prefixes = IPv4PrefixTable(ipv4PrefixKeys)
        self.ipv6Hosts = IPv6HashTable(ipv6HostKeys, length: 128, values: policyList.count > 1 ? ipv6HostValues : [])
        self.ipv6Prefixes = IPv6PrefixTable(ipv6PrefixKeys)
        self.portPolicies = PortPolicyTable(policyList)
        self.policyObjects = policyList
    }

    deinit {
        ipv4Hosts.deallocate()
        ipv4Prefixes.deallocate()
        ipv6Hosts.deallocate()
        ipv6Prefixes.deallocate()
        portPolicies.deallocate()
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

    /// Whether the IPv4 address is listed with a policy covering `port` (the port the exit
    /// would have carried the packet to). An address that is listed only through a prefix,
    /// or with no policy, covers every port.
    ///
    /// HOT PATH. Cost: that of `contains(ipv4:)`, plus one read of the policy index on a hit
    /// and, for a host with a policy, two dependent reads of the policy bitmaps. No allocation,
    /// no reference counting.
    @inlinable
    @inline(__always)
    public func match(ipv4 address: UInt32, port: UInt16) -> PortMatch {
        let policy = ipv4Hosts.value(address)
        if policy == 0 { return .listed }
        if policy > 0 && portPolicies.accepts(policy: policy, port: port) { return .listed }
        if !ipv4Prefixes.isEmpty && ipv4Prefixes.contains(address) { return .listed }
        return policy < 0 ? .notListed : .outsidePolicy
    }

    /// The IPv6 form of `match(ipv4:port:)`. HOT PATH, same cost as
    /// `contains(ipv6High:ipv6Low:)` plus the policy reads.
    @inlinable
    @inline(__always)
    public func match(ipv6High high: UInt64, ipv6Low low: UInt64, port: UInt16) -> PortMatch {
        let policy = ipv6Hosts.value(high: high, low: low)
        if policy == 0 { return .listed }
        if policy > 0 && portPolicies.accepts(policy: policy, port: port) { return .listed }
        if ipv6Prefixes.contains(high: high, low: low) { return .listed }
        return policy < 0 ? .notListed : .outsidePolicy
    }

    /// `match(ipv4:port:)` or `match(ipv6High:ipv6Low:port:)` for `address` (IPv4-mapped
    /// addresses looked up as IPv4).
    public func match(_ address: IPAddress, port: UInt16) -> PortMatch {
        switch address.normalized {
        case .v4(let v4): match(ipv4: v4.value, port: port)
        case .v6(let v6): match(ipv6High: v6.high, ipv6Low: v6.low, port: port)
        }
    }

    /// The port policy of the host entry of `address`: `PortPolicy.all` for a host without
    /// one, nil when the host itself is not an entry (it may still be inside a prefix).
    public func policy(of address: IPAddress) -> PortPolicy? {
        let index: Int
        switch address.normalized {
        case .v4(let v4): index = ipv4Hosts.value(v4.value)
        case .v6(let v6): index = ipv6Hosts.value(high: v6.high, low: v6.low)
        }
        return index < 0 ? nil : policyObjects[index]
    }

    /// The distinct port policies the set's host entries carry, `PortPolicy.all` first.
    public var portPolicyList: [PortPolicy] { policyObjects }

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
