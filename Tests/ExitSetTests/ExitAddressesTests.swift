import ExitSet
import Testing

@Suite("TorDNSEL exit-addresses")
struct ExitAddressesTests {
    @Test func readsExitAddressLines() throws {
        let text = """
            @type tordnsel 1.0
            Downloaded 2024-03-12 14:02:01
            ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75
            Published 2024-03-11 13:07:19
            LastStatus 2024-03-12 08:00:00
            ExitAddress 185.241.208.232 2024-03-12 08:10:51
            ExitNode 23B49521BDC4588C7CCF3C38E552504118326B66
            Published 2024-03-12 02:29:55
            LastStatus 2024-03-12 13:00:00
            ExitAddress 194.26.192.64 2024-03-12 13:03:14
            ExitAddress 194.26.192.65 2024-03-12 13:04:14
            SomeFutureKeyword with values
            ExitAddress 185.241.208.232 2024-03-12 09:10:51
            """
        let list = try parse(text)
        #expect(list.format == .exitAddresses)
        #expect(
            list.entries.map(\.description) == ["185.241.208.232", "194.26.192.64", "194.26.192.65", "185.241.208.232"]
        )
        #expect(list.ipv4Count == 3)
        #expect(list.rejected.isEmpty)
    }

    @Test func rejectsBadExitAddressLines() throws {
        let text = """
            ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75
            ExitAddress 185.241.208.999 2024-03-12 08:10:51
            ExitAddress
            ExitAddress 10.0.0.1 2024-03-12 08:10:51
            ExitAddress 10.0.0.0/8 2024-03-12 08:10:51
            """
        let list = try parse(text)
        #expect(list.entries == [prefix("10.0.0.1")])
        #expect(list.rejected.map(\.line) == [2, 3, 5])
        #expect(list.rejected[0].reason == "ExitAddress is not an IP address: '185.241.208.999'")
        #expect(list.rejected[1].reason == "ExitAddress line without an address")
    }

    @Test func documentWithoutExitAddressHasNoEntry() {
        #expect(
            parseError("ExitNode FE39\nPublished 2024-03-11 13:07:19\n") == .noValidEntry(rejected: 0, firstError: nil)
        )
    }
}
