import ExitSet
import Testing

/// The real Tor documents of `../shared/data/tor/` (see its README for the expected counts).
@Suite("Real Tor data")
struct RealDataTests {
    @Test func secOpsPlainList() throws {
        let list = try ListParser.parse(TestData.bytes("secops-tor-exit-nodes-2024-02-27.lst"))
        #expect(list.format == .plain)
        #expect(list.rejected.isEmpty)
        #expect(list.ipv4Count == 1_127)
        #expect(list.ipv6Count == 619)
        let set = ExitSet(list.entries)
        #expect(set.ipv4Count == 1_127)
        #expect(set.ipv6Count == 619)
        #expect(set.contains(address("2001:470:1:908::9001")))
        #expect(set.contains(address("101.99.92.179")))
    }

    @Test func bulkExitList() throws {
        let list = try ListParser.parse(TestData.bytes("torbulkexitlist-2024-03-12"))
        #expect(list.format == .plain)
        #expect(list.rejected.isEmpty)
        #expect(list.ipv4Count == 1_174)
        #expect(list.ipv6Count == 0)
        #expect(ExitSet(list.entries).count == 1_174)
    }

    @Test func exitAddresses() throws {
        let list = try ListParser.parse(TestData.bytes("exit-addresses-2024-03-12"))
        #expect(list.format == .exitAddresses)
        #expect(list.rejected.isEmpty)
        #expect(list.entries.count == 2_378)
        #expect(list.ipv4Count == 1_174)
        // Same set as the bulk list.
        let bulk = try ListParser.parse(TestData.bytes("torbulkexitlist-2024-03-12"))
        #expect(ExitSet(list.entries).entries == ExitSet(bulk.entries).entries)
    }

    @Test func consensus() throws {
        let list = try ListParser.parse(TestData.bytes("consensus-2022-11-19"))
        #expect(list.format == .consensus)
        #expect(list.rejected.isEmpty)
        #expect(list.ipv4Count == 1_138)
        #expect(list.ipv6Count == 647)
        let set = ExitSet(list.entries)
        #expect(set.contains(address("178.218.144.18")))  // titamon3: Exit
        #expect(set.contains(address("2a0b:f4c2:2::33")))  // ForPrivacyNET's a line
        #expect(!set.contains(address("104.53.221.159")))  // seele: not an exit
    }

    @Test func setLookupsMatchTheParsedEntries() throws {
        for name in ["secops-tor-exit-nodes-2024-02-27.lst", "consensus-2022-11-19"] {
            let list = try ListParser.parse(TestData.bytes(name))
            let set = ExitSet(list.entries)
            for entry in list.entries {
                #expect(set.contains(entry.address))
                #expect(set.match(entry.address) == entry)
            }
        }
    }
}
