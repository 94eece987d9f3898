import ExitSet
import Testing

@Suite("ListFormat.detect")
struct ListFormatTests {
    @Test(arguments: [
        ("1.2.3.4\n", ListFormat.plain),
        ("# comment\n\n   \n10.0.0.0/8\n", .plain),
        ("", .plain),
        ("{\"relays\":[]}", .onionoo),
        ("\n  \n  {\n \"version\": \"8.0\"", .onionoo),
        ("network-status-version 3\nvote-status consensus\n", .consensus),
        ("network-status-version 3 microdesc\n", .consensus),
        ("@type network-status-consensus-3 1.0\nnetwork-status-version 3\n", .consensus),
        ("@type network-status-microdesc-consensus-3 1.0\n", .consensus),
        ("@type tordnsel 1.0\nDownloaded 2024-03-12 14:02:01\nExitNode AB\n", .exitAddresses),
        ("Downloaded 2024-03-12 14:02:01\nExitNode AB\n", .exitAddresses),
        ("ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75\nPublished 2024-03-11 13:07:19\n", .exitAddresses),
        ("# header\nExitNode FE39\n", .exitAddresses),
        ("ExitNodeX 1.2.3.4\n", .plain),
        ("[\"1.2.3.4\"]\n", .plain),
    ])
    func detects(text: String, expected: ListFormat) {
        #expect(ListFormat.detect(Array(text: text)) == expected)
    }

    @Test func describesItself() {
        #expect(
            ListFormat.allCases.map(\.description) == ["plain", "exit-addresses", "consensus", "onionoo", "relays"]
        )
        #expect(ListFormat(rawValue: "consensus") == .consensus)
    }

    @Test func explicitFormatOverridesDetection() throws {
        // Looks like a plain list, read as exit-addresses: no ExitAddress line, so no entry.
        #expect(parseError("1.2.3.4\n", format: .exitAddresses) == .noValidEntry(rejected: 0, firstError: nil))
    }
}
