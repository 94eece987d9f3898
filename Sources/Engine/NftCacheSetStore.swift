import ExitSet
import NetfilterQueue
import Rules
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The nf_tables sets of the `rules show --nft` ruleset: listed, emptied and mirrored through
/// the `nft` program (`NftablesSets`), elements deleted through netlink (`NftSetClient`, a
/// socket of its own), where a deletion of an element that expired meanwhile fails alone
/// instead of aborting the others.
final class NftCacheSetStore: CacheSetStore {
    let sets: NftablesSets
    private let client: Mutex<NftSetClient>

    /// Opens the netlink socket the deletions go through.
    init(sets: NftablesSets) throws(NftSetError) {
        self.sets = sets
        self.client = Mutex(try NftSetClient(table: sets.table))
    }

    var backend: CacheBackend { .nftables }

    func members(_ name: String) throws -> [DropCacheSets.Member] { try sets.members(name) }

    /// Nil: nf_tables tells a set's size only by listing every element, which for a large
    /// accept set is what the poller avoids doing every second; the size is then the one
    /// its last listing of members found (every few seconds).
    func entryCount(_ name: String) throws -> Int? { nil }

    func delete(_ addresses: [IPAddress], from name: String) throws {
        guard !addresses.isEmpty else { return }
        let requests = addresses.map { IpsetClient.Request(set: name, address: $0.conntrackAddress) }
        let outcome = try client.withLock { client throws(NftSetError) in try client.delete(requests) }
        // ENOENT: the element expired since the listing, which is what the delete wanted.
        let failures = outcome.codes.filter { $0 != 0 && $0 != ENOENT }
        if let code = failures.first {
            throw NftSetError.batchRefused(operation: "delete from \(name) (\(failures.count) element(s))", code: code)
        }
    }

    func flush(_ name: String) throws { try sets.flush(name) }

    func mirror(_ prefixes: [IPPrefix], into name: String, family: RuleSettings.Family) throws {
        try sets.replace(name, with: prefixes)
    }
}

extension IPAddress {
    /// The address as the netlink clients take it.
    var conntrackAddress: ConntrackAddress {
        switch self {
        case .v4(let v4): .v4(v4.value)
        case .v6(let v6): .v6(high: v6.high, low: v6.low)
        }
    }
}
