import ExitSet
import NetfilterQueue
import Rules
import Synchronization
import Testing

@testable import Engine

/// A stand-in `nft` holding `table inet exitblock` as `rules show --nft` renders it, minus the
/// sets in `missing`, with the rules in `ruleText`.
private final class FakeNft: CommandRunning {
    let ruleText: String
    let missing: Set<String>

    init(ruleText: String, missing: Set<String> = []) {
        self.ruleText = ruleText
        self.missing = missing
    }

    func run(_ path: String, _ arguments: [String], input: String?) throws(RulesError) -> CommandResult {
        if arguments.starts(with: ["list", "table"]) {
            return CommandResult(status: 0, output: "table inet exitblock {\n\(ruleText)\n}\n", errorOutput: "")
        }
        guard let name = arguments.last, !missing.contains(name) else {
            return CommandResult(status: 1, output: "", errorOutput: "Error: No such file or directory")
        }
        let size = name.hasPrefix("accept") ? ", \"size\": 1000" : ""
        let json = """
            {"nftables": [{"set": {"family": "inet", "name": "\(name)", "table": "exitblock", \
            "type": "ipv4_addr", "handle": 1\(size), "flags": ["timeout"], "timeout": 90}}]}
            """
        return CommandResult(status: 0, output: json, errorOutput: "")
    }
}

/// A store that records what the cache asks of it, with the members given.
private final class RecordingStore: CacheSetStore {
    let contents: [String: [String]]
    let deleted = Mutex<[String: [IPAddress]]>([:])
    let mirrored = Mutex<[String: [IPPrefix]]>([:])

    init(members: [String: [String]]) { contents = members }

    var backend: CacheBackend { .nftables }

    func members(_ name: String) throws -> [DropCacheSets.Member] {
        contents[name, default: []].map {
            DropCacheSets.Member(address: IPAddress($0)!, timeout: 50, packets: 2, bytes: 0)
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

/// The caches on the nf_tables sets of the `rules show --nft` ruleset.
@Suite struct DropCacheNftablesTests {
    static let rules = """
        \tchain judge {
        \t\tip saddr @drop4 ip daddr != @allow4 drop
        \t\tip6 saddr @drop6 ip6 daddr != @allow6 drop
        \t\tip saddr @accept4 accept
        \t}
        """

    @Test func theProbeFindsTheSetsThatRulesUse() throws {
        let sets = NftablesSets(path: "/usr/sbin/nft", runner: FakeNft(ruleText: Self.rules, missing: ["accept6"]))
        let found = try DropCache.probeNftables(DropCache.Wanted(), sets: sets, log: { _ in })
        #expect(found.families == [.ipv4, .ipv6])
        #expect(found.acceptFamilies == [.ipv4])
        // The sets' own timeout (90 s) when none is given.
        #expect(found.dropTimeout == 90 && found.acceptTimeout == 90)
        #expect(found.missing == ["ipv6: no set accept6 in table inet exitblock"])
    }

    @Test func aSetNoRuleUsesIsNotUsedAndATimeoutGivenWins() throws {
        let rules = "\tchain judge {\n\t\tip saddr @drop4 ip daddr != @allow4 drop\n\t}"
        let sets = NftablesSets(path: "/usr/sbin/nft", runner: FakeNft(ruleText: rules))
        var wanted = DropCache.Wanted()
        wanted.dropTimeout = 30
        let found = try DropCache.probeNftables(wanted, sets: sets, log: { _ in })
        #expect(found.families == [.ipv4] && found.acceptFamilies.isEmpty)
        #expect(found.dropTimeout == 30)
        #expect(found.missing.contains("ipv6: no rule uses drop6"))
    }

    @Test func theWriterNamesTheNftSetsAndCountsENFILEAsFull() {
        let sent = Mutex<[IpsetClient.Request]>([])
        let writer = CacheWriter(
            targets: .init(dropTimeout: 60, acceptTimeout: 30, backend: .nftables),
            sink: { requests in
                sent.withLock { $0 += requests }
                var outcome = IpsetClient.Outcome()
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
        let store = RecordingStore(members: [
            "drop4": ["198.51.100.1", "198.51.100.2"],
            "accept4": ["203.0.113.1", "203.0.113.2"],
        ])
        let cache = DropCache(
            families: [.ipv4],
            acceptFamilies: [.ipv4],
            sets: store,
            writer: CacheWriter(
                targets: .init(dropTimeout: 60, acceptTimeout: 60, backend: .nftables),
                sink: { _ in IpsetClient.Outcome() },
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
