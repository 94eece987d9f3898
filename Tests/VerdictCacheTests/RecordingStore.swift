import ExitSet
import Rules
import Synchronization

@testable import VerdictCache

/// A store that records what the cache asks of it, with the members given.
final class RecordingStore: CacheSetStore {
    let contents: [String: [String]]
    let deleted = Mutex<[String: [IPAddress]]>([:])
    let mirrored = Mutex<[String: [IPPrefix]]>([:])

    let backend: CacheBackend
    let packets: UInt64

    init(backend: CacheBackend, packets: UInt64 = 2, members: [String: [String]]) {
        self.backend = backend
        self.packets = packets
        contents = members
    }

    func members(_ name: String) throws -> [DropCacheSets.Member] {
        contents[name, default: []].map {
            DropCacheSets.Member(address: IPAddress($0)!, timeout: 50, packets: packets, bytes: 0)
        }
    }

    func entryCount(_ name: String) throws -> Int? { contents[name]?.count }

    func delete(_ addresses: [IPAddress], from name: String) throws {
        deleted.withLock { $0[name, default: []] += addresses }
    }

    func flush(_ name: String) throws {}

    func mirror(_ prefixes: [IPPrefix], into name: String, family: RuleSettings.Family) throws {
        mirrored.withLock { $0[name] = prefixes }
    }
}
