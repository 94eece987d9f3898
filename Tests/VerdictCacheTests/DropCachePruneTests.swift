import ExitSet
import Rules
import NetfilterQueue
import Synchronization
import Testing

@testable import Engine

/// A stand-in `ipset`: `list -o save NAME` answers the members given, `list -t` a header with
/// a size, `restore` records its input.
private final class FakeIpset: CommandRunning {
    let members: [String: [String]]
    let restores = Mutex<[String]>([])

    init(members: [String: [String]]) { self.members = members }

    func run(_ path: String, _ arguments: [String], input: String?) throws(RulesError) -> CommandResult {
        if arguments.first == "restore" {
            restores.withLock { $0.append(input ?? "") }
            return CommandResult(status: 0, output: "", errorOutput: "")
        }
        let name = arguments.last ?? ""
        let lines = members[name, default: []]
        if arguments.contains("-t") {
            return CommandResult(
                status: 0,
                output: "Name: \(name)\nNumber of entries: \(lines.count)\n",
                errorOutput: ""
            )
        }
        let save = lines.map { "add \(name) \($0) timeout 50 packets 3 bytes 180" }.joined(separator: "\n")
        return CommandResult(status: 0, output: save + "\n", errorOutput: "")
    }
}

/// The publish's invalidation: what each prune deletes from the drop and accept sets.
@Suite struct DropCachePruneTests {
    private func cache(_ fake: FakeIpset) -> DropCache {
        let writer = CacheWriter(
            targets: .init(dropTimeout: 60, acceptTimeout: 60),
            sink: { _ in IpsetClient.Outcome() },
            log: { _ in }
        )
        return DropCache(
            families: [.ipv4],
            acceptFamilies: [.ipv4],
            sets: DropCacheSets(path: "/sbin/ipset", runner: fake),
            writer: writer,
            log: { _ in }
        )
    }

    private func set(_ entries: [String]) -> ExitSet { ExitSet(entries.compactMap(IPPrefix.init)) }

    @Test func aPublishDeletesDeListedDropsAndNewlyListedAccepts() {
        let fake = FakeIpset(members: [
            "exitblock-drop4": ["198.51.100.1", "198.51.100.2", "198.51.100.3"],
            "exitblock-accept4": ["203.0.113.1", "203.0.113.2"],
        ])
        let cache = cache(fake)
        // .2 is de-listed, .3 allowlisted; 203.0.113.2 is newly listed.
        cache.prune(
            exits: set(["198.51.100.1", "198.51.100.3", "203.0.113.2"]),
            allowlist: set(["198.51.100.3"])
        )
        let restores = fake.restores.withLock { $0 }
        #expect(restores.contains("del exitblock-accept4 203.0.113.2\n"))
        #expect(restores.contains("del exitblock-drop4 198.51.100.2\ndel exitblock-drop4 198.51.100.3\n"))
        let figures = cache.figures
        #expect(figures.entriesDeleted == 2)
        #expect(figures.accept?.entriesDeleted == 1)
        // The deleted entries' counts are kept (3 packets each, all five entries seen once).
        #expect(figures.kernelDrops[.ipv4] == 9)
        #expect(figures.accept?.kernelAccepts[.ipv4] == 6)
    }

    @Test func refreshReadsTheAcceptSizeEverySecondAndItsMembersEveryFewSeconds() {
        let fake = FakeIpset(members: ["exitblock-accept4": ["203.0.113.1", "203.0.113.2"]])
        let cache = cache(fake)
        cache.refresh()
        #expect(cache.figures.accept?.entries[.ipv4] == 2)
        #expect(cache.figures.accept?.kernelAccepts[.ipv4] == 6)
        cache.refresh()
        #expect(cache.figures.accept?.entries[.ipv4] == 2)
    }
}
