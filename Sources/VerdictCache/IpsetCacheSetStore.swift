import ExitSet
import KernelSets
import Netlink
import LinuxSystem
import Rules
import Synchronization
import SystemPackage

/// The ipsets of `rules install`, through ipset netlink (`IpsetClient`, a socket of its own;
/// the writer thread adds through another).
final class IpsetCacheSetStore: CacheSetStore {
    private let client: Mutex<IpsetClient>

    init(client: sending IpsetClient) {
        self.client = Mutex(client)
    }

    var backend: CacheBackend { .ipset }

    func members(_ name: String) throws -> [DropCacheSets.Member] {
        let listing = try client.withLock { client throws(NetlinkError) in try client.list(name) }
        return (listing?.members ?? []).map(DropCacheSets.Member.init)
    }

    /// The header's entry count: one message, whatever the set's size.
    func entryCount(_ name: String) throws -> Int? {
        let header = try client.withLock { client throws(NetlinkError) in try client.header(name) }
        return header?.entries.map(Int.init)
    }

    func delete(_ addresses: [IPAddress], from name: String) throws {
        guard !addresses.isEmpty else { return }
        let requests = addresses.map { SetRequest(set: name, address: $0.setAddress) }
        let outcome = try client.withLock { client throws(NetlinkError) in try client.delete(requests) }
        if let code = outcome.firstFailure {
            throw NetlinkError.kernelRefused(operation: "ipset del from \(name) (\(outcome.failed))", Errno(code))
        }
    }

    func flush(_ name: String) throws {
        try client.withLock { client throws(NetlinkError) in try client.flush(name) }
    }

    /// A new set filled and swapped in, so the kernel never sees a half-filled one.
    func mirror(_ prefixes: [IPPrefix], into name: String, family: RuleSettings.Family) throws {
        let temporary = name + "-new"
        try client.withLock { client throws(NetlinkError) in
            if try client.header(temporary) != nil { try client.destroy(temporary) }
            try client.create(temporary, IpsetSpec(type: .hashNet, ipv6: family == .ipv6))
            try client.add(prefixes.map(\.setPrefix), to: temporary)
            try client.swap(temporary, with: name)
            try client.destroy(temporary)
        }
    }
}
