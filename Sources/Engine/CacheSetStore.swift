import ExitSet
import NetfilterQueue
import Rules

/// The verdict caches' kernel sets as `DropCache` drives them off the hot path (at start, at
/// each publish, from the figures poller): list, delete, empty, mirror the allowlist. Adds go
/// through the writer thread's netlink client instead (`CacheWriter`).
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

/// The ipsets, through the `ipset` program.
extension DropCacheSets: CacheSetStore {
    var backend: CacheBackend { .ipset }

    func flush(_ name: String) throws {
        try restore(["flush \(name)"])
    }

    /// A new set filled and swapped in, so the kernel never sees a half-filled one.
    func mirror(_ prefixes: [IPPrefix], into name: String, family: RuleSettings.Family) throws {
        let temporary = name + "-new"
        let inet = family == .ipv4 ? "inet" : "inet6"
        if try header(temporary) != nil { try restore(["destroy \(temporary)"]) }
        try restore(
            ["create \(temporary) hash:net family \(inet)"]
                + prefixes.map { "add \(temporary) \($0.address)/\($0.length)" }
                + ["swap \(temporary) \(name)", "destroy \(temporary)"]
        )
    }
}
