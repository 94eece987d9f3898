import ExitSet
import KernelSets
import Netlink
import LinuxSystem
import Rules
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The nf_tables sets of the `rules show --nft` ruleset, through nfnetlink (`NftSetClient`,
/// a socket of its own; the writer thread adds through another). A deletion of an element
/// that expired meanwhile fails alone instead of aborting the others.
final class NftCacheSetStore: CacheSetStore {
    private let client: Mutex<NftSetClient>

    init(client: sending NftSetClient) {
        self.client = Mutex(client)
    }

    var backend: CacheBackend { .nftables }

    func members(_ name: String) throws -> [DropCacheSets.Member] {
        let members = try client.withLock { client throws(NetlinkError) in try client.members(name) }
        return (members ?? []).map(DropCacheSets.Member.init)
    }

    /// Nil: nf_tables tells a set's size only by listing every element, which for a large
    /// accept set is what the poller avoids doing every second; the size is then the one
    /// its last listing of members found (every few seconds).
    func entryCount(_ name: String) throws -> Int? { nil }

    func delete(_ addresses: [IPAddress], from name: String) throws {
        guard !addresses.isEmpty else { return }
        let requests = addresses.map { SetRequest(set: name, address: $0.setAddress) }
        let outcome = try client.withLock { client throws(NetlinkError) in try client.delete(requests) }
        // ENOENT: the element expired since the listing, which is what the delete wanted.
        let failures = outcome.codes.filter { $0 != 0 && $0 != ENOENT }
        if let code = failures.first {
            throw NetlinkError.kernelRefused(
                operation: "nf_tables delete from \(name) (\(failures.count))",
                Errno(code)
            )
        }
    }

    func flush(_ name: String) throws {
        try client.withLock { client throws(NetlinkError) in try client.flush(name) }
    }

    /// Emptied and filled in one transaction.
    func mirror(_ prefixes: [IPPrefix], into name: String, family: RuleSettings.Family) throws {
        try client.withLock { client throws(NetlinkError) in
            try client.replace(name, with: prefixes.map(\.setPrefix), ipv6: family == .ipv6)
        }
    }
}
