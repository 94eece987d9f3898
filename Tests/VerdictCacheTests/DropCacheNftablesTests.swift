import ExitSet
import KernelSets
import Rules
import Synchronization
import Testing

@testable import VerdictCache

/// The caches on the nf_tables sets of the `rules show --nft` ruleset.
@Suite struct DropCacheNftablesTests {
    static let rules = """
        \tchain judge {
        \t\tip saddr @drop4 ip daddr != @allow4 drop
        \t\tip6 saddr @drop6 ip6 daddr != @allow6 drop
        \t\tip saddr @accept4 accept
        \t}
        """

    @Test func theWriterNamesTheNftSetsAndCountsENFILEAsFull() {
        let sent = Mutex<[SetRequest]>([])
        let writer = CacheWriter(
            targets: .init(dropTimeout: 60, acceptTimeout: 30, backend: .nftables),
            sink: { requests in
                sent.withLock { $0 += requests }
                var outcome = SetOutcome()
                outcome.codes = requests.map { $0.set.hasPrefix("accept") ? 23 : 0 }  // ENFILE
                return outcome
            },
            log: { _ in }
        )
        writer.hand([
            .init(high: 0, low: 7, isIPv6: false, accept: false, generation: 0),
            .init(high: 0x2001_0db8_0000_0000, low: 1, isIPv6: true, accept: false, generation: 0),
            .init(high: 0, low: 8, isIPv6: false, accept: true, generation: 0),
        ])
        writer.drain()
        #expect(sent.withLock { $0 }.map(\.set) == ["drop4", "drop6", "accept4"])
        #expect(writer.figures.dropAdds == 2 && writer.figures.acceptFull == 1 && writer.figures.errors == 0)
    }

    @Test func aPublishPrunesAndMirrorsTheNftSets() {
        let store = RecordingStore(
            backend: .nftables,
            members: [
                "drop4": ["198.51.100.1", "198.51.100.2"],
                "accept4": ["203.0.113.1", "203.0.113.2"],
            ]
        )
        let cache = DropCache(
            families: [.ipv4],
            acceptFamilies: [.ipv4],
            sets: store,
            writer: CacheWriter(
                targets: .init(dropTimeout: 60, acceptTimeout: 60, backend: .nftables),
                sink: { _ in SetOutcome() },
                log: { _ in }
            ),
            log: { _ in }
        )
        let exits = ExitSet(["198.51.100.1", "203.0.113.2"].compactMap(IPPrefix.init))
        let allowlist = ExitSet(["192.0.2.0/24"].compactMap(IPPrefix.init))
        cache.prune(exits: exits, allowlist: allowlist)
        #expect(
            store.deleted.withLock { $0 } == [
                "drop4": [IPAddress("198.51.100.2")!],
                "accept4": [IPAddress("203.0.113.2")!],
            ]
        )
        #expect(store.mirrored.withLock { $0 } == ["allow4": allowlist.entries])
        #expect(cache.figures.entriesDeleted == 1 && cache.figures.accept?.entriesDeleted == 1)
    }
}
