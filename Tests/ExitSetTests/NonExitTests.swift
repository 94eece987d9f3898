import ExitSet
import Testing

/// Relays that are not exits give no entry: no Exit flag, BadExit, or an exit policy that
/// rejects every port.
@Suite("Non-exits")
struct NonExitTests {
    @Test func consensusRejectAllPolicyIsNoExit() throws {
        let document = """
            network-status-version 3
            r closed AAoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 192.0.2.1 9001 0
            a [2001:db8::1]:9001
            s Exit Fast Running Valid
            p reject 1-65535
            r open ABElTMhEQ2myDvERVriZBDgiGlQ y/fqWhmFHAgpsHc59tXyQKtcRks 2022-11-18 21:31:58 192.0.2.2 443 0
            s Exit Fast Running Valid
            p accept 443
            directory-footer
            """
        let list = try ListParser.parse(Array(document.utf8), format: .consensus)
        #expect(list.entries.map(\.description) == ["192.0.2.2"])
    }

    @Test func onionooRejectAllPolicyIsNoExit() throws {
        let document = """
            {"relays":[
            {"nickname":"closed","or_addresses":["192.0.2.1:443","[2001:db8::1]:443"],"flags":["Exit","Running"],"exit_policy_summary":{"reject":["1-65535"]}},
            {"nickname":"v6only","or_addresses":["192.0.2.3:443","[2001:db8::3]:443"],"flags":["Exit","Running"],"exit_policy_summary":{"reject":["1-65535"]},"exit_policy_v6_summary":{"accept":["443"]}},
            {"nickname":"open","or_addresses":["192.0.2.2:443"],"flags":["Exit","Running"],"exit_policy_summary":{"accept":["80","443"]}}
            ]}
            """
        let list = try ListParser.parse(Array(document.utf8), format: .onionoo)
        #expect(Set(list.entries.map(\.description)) == ["192.0.2.2", "192.0.2.3", "2001:db8::3"])
    }

    /// The real consensus: no address of a relay that does not count (no Exit flag, BadExit,
    /// `p reject 1-65535`) is in the set, unless a counting exit shares it.
    @Test func realConsensusBlocksNoNonExit() throws {
        let bytes = try TestData.bytes("consensus-2022-11-19")
        let set = ExitSet(try ListParser.parse(bytes).entries)
        var exits: Set<String> = []
        var others: Set<String> = []
        var addresses: [String] = []
        var counts = false
        func finish() {
            if counts { exits.formUnion(addresses) } else { others.formUnion(addresses) }
            addresses = []
            counts = false
        }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            switch fields.first {
            case "r" where fields.count >= 9:
                finish()
                addresses = [String(fields[6])]
            case "a" where fields.count == 2:
                let text = fields[1]
                addresses.append(
                    String(text.hasPrefix("[") ? text.dropFirst().prefix { $0 != "]" } : text.prefix { $0 != ":" })
                )
            case "s":
                counts = fields.contains("Exit") && !fields.contains("BadExit")
            case "p" where line == "p reject 1-65535":
                counts = false
            default:
                break
            }
        }
        finish()
        let nonExits = others.subtracting(exits)
        #expect(nonExits.count > 4_000)
        let blocked = nonExits.filter { text in IPAddress(text).map { set.contains($0) } ?? false }
        #expect(blocked.isEmpty)
        #expect(exits.allSatisfy { text in IPAddress(text).map { set.contains($0) } ?? false })
    }
}
