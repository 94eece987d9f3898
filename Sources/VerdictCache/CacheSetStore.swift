import ExitSet
import KernelSets
import Rules

/// The verdict caches' kernel sets as `DropCache` drives them off the hot path (at each
/// publish, from the counter poller, at stop): list, delete, empty, mirror the allowlist.
/// Adds go through the writer thread's own client instead (`CacheWriter`). Every call is
/// netlink: no program is started.
protocol CacheSetStore: Sendable {
    /// Which sets these are (their names).
    var backend: CacheBackend { get }
    /// The members of set `name` with their counters (empty when it does not exist).
    func members(_ name: String) throws -> [DropCacheSets.Member]
    /// The number of members of set `name`, when that costs less than listing them (nil when
    /// the set does not exist, or the count is not to be had cheaply).
    func entryCount(_ name: String) throws -> Int?
    /// Deletes `addresses` from set `name`; one that is gone meanwhile (expired) is no error.
    func delete(_ addresses: [IPAddress], from name: String) throws
    /// Empties set `name`.
    func flush(_ name: String) throws
    /// Makes allowlist mirror `name` (of `family`) hold exactly `prefixes`, swapped in whole.
    func mirror(_ prefixes: [IPPrefix], into name: String, family: RuleSettings.Family) throws
}

extension IPAddress {
    /// The address as the set clients take it.
    var setAddress: SetAddress {
        switch self {
        case .v4(let v4): .v4(v4.value)
        case .v6(let v6): .v6(high: v6.high, low: v6.low)
        }
    }
}

extension IPPrefix {
    /// The prefix as the set clients take it.
    var setPrefix: SetPrefix { SetPrefix(address: address.setAddress, length: Int(length)) }
}

extension DropCacheSets.Member {
    /// A listed member in the figures' terms.
    init(_ member: SetMember) {
        let address: IPAddress =
            switch member.address {
            case .v4(let value): .v4(IPv4Address(value))
            case .v6(let high, let low): .v6(IPv6Address(high: high, low: low))
            }
        self.init(address: address, timeout: member.timeout, packets: member.packets, bytes: member.bytes)
    }
}
