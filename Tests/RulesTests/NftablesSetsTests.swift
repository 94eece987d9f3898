import LinuxSystem
import ExitSet
import Synchronization
import Testing

@testable import Rules

/// A stand-in `nft`: answers `list table` and `-j list set` from the texts given, records `-f -` input.
private final class FakeNft: CommandRunning {
    let table: String?
    let sets: [String: String]
    let applied = Mutex<[String]>([])

    init(table: String?, sets: [String: String] = [:]) {
        self.table = table
        self.sets = sets
    }

    func run(_ path: String, _ arguments: [String], input: String?) throws(CommandError) -> CommandResult {
        if arguments == ["-f", "-"] {
            applied.withLock { $0.append(input ?? "") }
            return CommandResult(status: 0, output: "", errorOutput: "")
        }
        if arguments.starts(with: ["list", "table"]) {
            return table.map { CommandResult(status: 0, output: $0, errorOutput: "") }
                ?? CommandResult(status: 1, output: "", errorOutput: "Error: No such file or directory")
        }
        if let name = arguments.last, let json = sets[name] {
            return CommandResult(status: 0, output: json, errorOutput: "")
        }
        return CommandResult(status: 1, output: "", errorOutput: "Error: No such file or directory")
    }
}

@Suite struct NftablesSetsTests {
    /// `nft -j list set inet t s6` of nft 1.0.6 (two elements added with `timeout 60s`, size 2).
    static let listing = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, \
        {"set": {"family": "inet", "name": "s6", "table": "t", "type": "ipv6_addr", "handle": 2, "size": 2, \
        "flags": ["timeout"], "timeout": 60, "elem": [{"elem": {"val": "2001:db8::1", "expires": 59, \
        "counter": {"packets": 4, "bytes": 336}}}, {"elem": {"val": "2001:db8::4", "expires": 12, \
        "counter": {"packets": 0, "bytes": 0}}}], "stmt": [{"counter": null}]}}]}
        """

    @Test func aListingGivesTimeoutSizeAndMembersWithCounters() throws {
        let listing = try #require(NftablesSets.parseListing(Self.listing))
        #expect(listing.timeout == 60 && listing.size == 2)
        #expect(
            listing.members == [
                .init(address: IPAddress("2001:db8::1")!, timeout: 59, packets: 4, bytes: 336),
                .init(address: IPAddress("2001:db8::4")!, timeout: 12, packets: 0, bytes: 0),
            ]
        )
    }

    @Test func anEmptySetHasNoMembersAndGarbageIsNoListing() throws {
        let empty = """
            {"nftables": [{"metainfo": {"version": "1.0.6"}}, {"set": {"family": "inet", "name": "drop4", \
            "table": "exitblock", "type": "ipv4_addr", "handle": 3, "flags": ["timeout"], "timeout": 60}}]}
            """
        #expect(NftablesSets.parseListing(empty) == .init(timeout: 60, size: nil, members: []))
        #expect(NftablesSets.parseListing("Error: No such file or directory") == nil)
    }

    @Test func aRuleUsesASetWhenItNamesIt() {
        let table = """
            table inet exitblock {
            \tset drop4 {
            \t\ttype ipv4_addr
            \t}
            \tchain judge {
            \t\tip saddr @drop4 ip daddr != @allow4 drop
            \t\tip saddr @accept4 accept
            \t}
            }
            """
        #expect(NftablesSets.rules(in: table, use: "drop4"))
        #expect(NftablesSets.rules(in: table, use: "allow4"))
        #expect(NftablesSets.rules(in: table, use: "accept4"))
        #expect(!NftablesSets.rules(in: table, use: "drop6"))
        #expect(!NftablesSets.rules(in: table, use: "drop"))
    }

    @Test func theAllowlistMirrorIsReplacedInOneTransactionWithoutOverlaps() throws {
        let fake = FakeNft(table: "")
        let sets = NftablesSets(path: "/usr/sbin/nft", runner: fake)
        try sets.replace(
            "allow4",
            with: ["10.0.0.0/8", "10.1.0.0/16", "192.0.2.7/32", "10.0.0.0/8"].compactMap(IPPrefix.init)
        )
        try sets.replace("allow6", with: [])
        #expect(
            fake.applied.withLock { $0 } == [
                "flush set inet exitblock allow4\nadd element inet exitblock allow4 { 10.0.0.0/8, 192.0.2.7/32 }\n",
                "flush set inet exitblock allow6\n",
            ]
        )
    }

    @Test func listAndMembersOfAMissingSetAreEmpty() throws {
        let sets = NftablesSets(path: "/usr/sbin/nft", runner: FakeNft(table: nil, sets: ["s6": Self.listing]))
        #expect(try sets.list("drop4") == nil)
        #expect(try sets.members("drop4").isEmpty)
        #expect(try sets.members("s6").count == 2)
        #expect(try sets.tableText() == nil)
    }
}
