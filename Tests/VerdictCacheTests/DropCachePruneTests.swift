import ExitSet
import Rules
import KernelSets
import Synchronization
import Testing

@testable import VerdictCache

/// The publish's invalidation: what each prune deletes from the drop and accept sets.
@Suite struct DropCachePruneTests {
    private func cache(_ fake: RecordingStore) -> DropCache {
        let writer = CacheWriter(
            targets: .init(dropTimeout: 60, acceptTimeout: 60),
            sink: { _ in SetOutcome() },
            log: { _ in }
        )
        return DropCache(
            families: [.ipv4],
            acceptFamilies: [.ipv4],
            sets: fake,
            writer: writer,
            log: { _ in }
        )
    }

    private func set(_ entries: [String]) -> ExitSet { ExitSet(entries.compactMap(IPPrefix.init)) }

    @Test func aPublishDeletesDeListedDropsAndNewlyListedAccepts() {
        let fake = RecordingStore(
            backend: .ipset,
            packets: 3,
            members: [
                "exitblock-drop4": ["198.51.100.1", "198.51.100.2", "198.51.100.3"],
                "exitblock-accept4": ["203.0.113.1", "203.0.113.2"],
            ]
        )
        let cache = cache(fake)
        // .2 is de-listed, .3 allowlisted; 203.0.113.2 is newly listed.
        cache.prune(
            exits: set(["198.51.100.1", "198.51.100.3", "203.0.113.2"]),
            allowlist: set(["198.51.100.3"])
        )
        let deleted = fake.deleted.withLock { $0 }
        #expect(deleted["exitblock-accept4"] == [IPAddress("203.0.113.2")!])
        #expect(deleted["exitblock-drop4"] == [IPAddress("198.51.100.2")!, IPAddress("198.51.100.3")!])
        let figures = cache.figures
        #expect(figures.entriesDeleted == 2)
        #expect(figures.accept?.entriesDeleted == 1)
        // The deleted entries' counts are kept (3 packets each, all five entries seen once).
        #expect(figures.kernelDrops[.ipv4] == 9)
        #expect(figures.accept?.kernelAccepts[.ipv4] == 6)
    }

    @Test func refreshReadsTheAcceptSizeEverySecondAndItsMembersEveryFewSeconds() {
        let fake = RecordingStore(
            backend: .ipset,
            packets: 3,
            members: ["exitblock-accept4": ["203.0.113.1", "203.0.113.2"]]
        )
        let cache = cache(fake)
        cache.refresh()
        #expect(cache.figures.accept?.entries[.ipv4] == 2)
        #expect(cache.figures.accept?.kernelAccepts[.ipv4] == 6)
        cache.refresh()
        #expect(cache.figures.accept?.entries[.ipv4] == 2)
    }
}
