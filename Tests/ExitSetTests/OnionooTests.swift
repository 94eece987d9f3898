import ExitSet
import Testing
import SeededRandom

@Suite("Onionoo")
struct OnionooTests {
    static let details = """
        {"version":"8.0",
        "relays_published":"2024-03-12 13:00:00",
        "relays":[
        {"nickname":"exit1","fingerprint":"AAAA","or_addresses":["192.0.2.1:443","[2001:db8::1]:9001"],"exit_addresses":["198.51.100.7"],"flags":["Exit","Fast","Running","Valid"],"consensus_weight":1234,"measured":true,"exit_policy_summary":{"reject":["25"]},"family":null},
        {"nickname":"bad","or_addresses":["192.0.2.2:443"],"exit_addresses":["198.51.100.8"],"flags":["BadExit","Exit","Running"]},
        {"nickname":"guard","or_addresses":["192.0.2.3:443"],"flags":["Guard","Running","Valid"]},
        {"nickname":"noflags","or_addresses":["192.0.2.4:443"]},
        {"nickname":"exit2","or_addresses":["[2001:DB8:0:0:0:0:0:2]:443", "192.0.2.5:80"],"flags":["Running","Exit"],"exit_addresses":["2001:db8::5","[2001:db8::6]"],
         "x_weird":[1, -2.5e+3, 0.0, true, false, null, "\\u00e9\\ud83d\\ude00\\n", {"a":[{}]}]},
        {"nickname":"exit3","or_addresses":["192.0.2.300:443","192.0.2.9"],"flags":["Exit"]}
        ],
        "bridges_published":"2024-03-12 13:00:00",
        "bridges":[]}
        """

    @Test func readsExitRelays() throws {
        let list = try parse(Self.details)
        #expect(list.format == .onionoo)
        #expect(
            Set(list.entries.map(\.description)) == [
                "192.0.2.1", "2001:db8::1", "198.51.100.7", "2001:db8::2", "192.0.2.5", "2001:db8::5", "2001:db8::6",
            ]
        )
        #expect(list.entries.count == 7)
        #expect(list.rejected.map(\.line) == [10, 10])
        #expect(list.rejected[0].reason == "not an address:port: '192.0.2.300:443'")
        #expect(list.rejected[1].reason == "not an address:port: '192.0.2.9'")
    }

    @Test func emptyRelaysHasNoEntry() {
        #expect(parseError(#"{"relays":[]}"#) == .noValidEntry(rejected: 0, firstError: nil))
    }

    @Test func missingRelaysIsMalformed() {
        #expect(parseError(#"{"bridges":[]}"#) == .malformed(format: .onionoo, line: 1, reason: #"no "relays" array"#))
    }

    /// Each hostile or broken document must give `.malformed` (never crash, never hang).
    @Test(arguments: [
        "{",
        "{\"relays\":",
        "{\"relays\":[",
        "{\"relays\":[{\"flags\":[\"Exit\"",
        "{\"relays\":[{\"flags\":[\"Exit]}]}",
        "{\"relays\":[]}}",
        "{\"relays\":[]} x",
        "{\"relays\":[],}",
        "{\"relays\":[,]}",
        "{\"relays\":[{}],\"a\":01}",
        "{\"relays\":[{}],\"a\":1.}",
        "{\"relays\":[{}],\"a\":-}",
        "{\"relays\":[{}],\"a\":1e}",
        "{\"relays\":[{}],\"a\":tru}",
        "{\"relays\":[{}],\"a\":nul}",
        "{\"relays\":[{}],\"a\":\"\\x\"}",
        "{\"relays\":[{}],\"a\":\"\\ud800\"}",
        "{\"relays\":[{}],\"a\":\"\\udc00\"}",
        "{\"relays\":[{}],\"a\":\"\\u12\"}",
        "{\"relays\":[{}],\"a\":\"tab\there\"}",
        "{\"relays\":[{}],\"a\":'single'}",
        "{\"relays\":[{}] \"a\":1}",
        "{relays:[]}",
        "{\"relays\":{}}",
        "{\"relays\":[1]}",
        "{\"relays\":[{\"flags\":\"Exit\"}]}",
        "{\"relays\":[{\"or_addresses\":[1]}]}",
        "[]",
        "{}garbage",
        "{\"relays\":[]}\u{7F}",
    ])
    func rejectsBrokenJSON(text: String) {
        let error = parseError(text, format: .onionoo)
        guard case .malformed(let format, let line, let reason)? = error else {
            Issue.record("expected .malformed for \(text), got \(String(describing: error))")
            return
        }
        #expect(format == .onionoo)
        #expect(line >= 1)
        #expect(reason.contains("column") || reason.contains("relays"))
    }

    @Test func reportsThePositionOfAnError() {
        let text = "{\"relays\":[\n  {\"flags\":[\"Exit\"]},\n  {\"flags\": [\"Exit\" \"Fast\"]}\n]}"
        #expect(
            parseError(text)
                == .malformed(format: .onionoo, line: 3, reason: "expected ',' or ']', found '\"' at column 21")
        )
    }

    @Test func refusesDeepNesting() {
        for opening in ["[", "{\"a\":"] {
            let deep = "{\"relays\":[{\"x\":" + String(repeating: opening, count: 100_000)
            guard case .malformed(_, _, let reason)? = parseError(deep) else {
                Issue.record("deep nesting with \(opening) was not refused")
                continue
            }
            #expect(reason.contains("nesting deeper than 64 levels"))
        }
        // 100,000 '[' alone: not an object at all.
        let brackets = String(repeating: "[", count: 100_000)
        #expect(ListFormat.detect(Array(text: brackets)) == .plain)
        guard case .malformed(.onionoo, 1, let reason)? = parseError(brackets, format: .onionoo) else {
            Issue.record("100,000 '[' read as Onionoo was not refused")
            return
        }
        #expect(reason.hasPrefix("expected '{'"))
        // Detected as plain, it is one line of garbage.
        #expect(parseError(brackets) == .lineTooLong(line: 1, length: 100_000))
    }

    @Test func acceptsNestingUpToTheLimit() throws {
        // The document is level 1, "relays" 2, a relay 3, its members 4: 60 more levels fit.
        let nested = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        let text = "{\"relays\":[{\"x\":\(nested),\"flags\":[\"Exit\"],\"exit_addresses\":[\"192.0.2.1\"]}]}"
        #expect(try parse(text).entries == [prefix("192.0.2.1")])
        let tooDeep = String(repeating: "[", count: 62) + String(repeating: "]", count: 62)
        #expect(parseError("{\"relays\":[{\"x\":\(tooDeep)}]}") != nil)
    }

    @Test func decodesEscapesInAddresses() throws {
        let text = #"{"relays":[{"flags":["\u0045xit"],"exit_addresses":["192.0.2.\u0031"]}]}"#
        #expect(try parse(text).entries == [prefix("192.0.2.1")])
    }

    @Test func randomGarbageNeverCrashes() {
        var generator = SeededGenerator(seed: 99)
        let alphabet = Array(text: "{}[]:,\"\\ 0123456789-+.eEtrufalsn\nExit relays flags or_addresses")
        for _ in 0..<2000 {
            let length = Int.random(in: 1...80, using: &generator)
            let bytes = [UInt8(ascii: "{")] + (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            _ = parseError(bytes, format: .onionoo)
        }
    }
}
