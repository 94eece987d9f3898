import ExitSet
import Testing

@Suite("Consensus")
struct ConsensusTests {
    static let nsFlavour = """
        network-status-version 3
        vote-status consensus
        known-flags Authority BadExit Exit Fast Guard HSDir Running Stable V2Dir Valid
        dir-source dannenberg 0232AF901C31A04EE9848595AF9BB7620D4C5B2E dannenberg.torauth.de 193.23.244.244 80 443
        r seele AAoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 104.53.221.159 9001 0
        s Fast HSDir Running Stable V2Dir Valid
        v Tor 0.4.7.10
        r titamon3 ABElTMhEQ2myDvERVriZBDgiGlQ y/fqWhmFHAgpsHc59tXyQKtcRks 2022-11-18 21:31:58 178.218.144.18 443 0
        s Exit Fast Guard HSDir Running Stable V2Dir Valid
        w Bandwidth=10000
        p accept 1-65535
        r ForPrivacyNET ADb6NqtDX9XQ9kBiZjaGfr+3LGg 9JTWtYGZ1f3z3pxJonWuv0TRa9g 2022-11-18 18:01:58 185.220.101.33 10133 0
        a [2a0b:f4c2:2::33]:10133
        s Exit Fast Running Stable Valid
        r bad BBb6NqtDX9XQ9kBiZjaGfr+3LGg 9JTWtYGZ1f3z3pxJonWuv0TRa9g 2022-11-18 18:01:58 192.0.2.66 443 0
        a [2001:db8::66]:443
        s BadExit Exit Fast Running Valid
        r noflags CCb6NqtDX9XQ9kBiZjaGfr+3LGg 9JTWtYGZ1f3z3pxJonWuv0TRa9g 2022-11-18 18:01:58 192.0.2.77 443 0
        r v4extra DDb6NqtDX9XQ9kBiZjaGfr+3LGg 9JTWtYGZ1f3z3pxJonWuv0TRa9g 2022-11-18 18:01:58 192.0.2.88 443 80
        a 192.0.2.89:443
        s Exit Running Valid
        directory-footer
        bandwidth-weights Wbd=0
        r after EEb6NqtDX9XQ9kBiZjaGfr+3LGg 9JTWtYGZ1f3z3pxJonWuv0TRa9g 2022-11-18 18:01:58 192.0.2.99 443 0
        s Exit
        directory-signature 0232AF901C31A04EE9848595AF9BB7620D4C5B2E
        -----BEGIN SIGNATURE-----
        AAAA
        -----END SIGNATURE-----
        """

    @Test func readsExitRelaysOfTheNsFlavour() throws {
        let list = try parse(Self.nsFlavour)
        #expect(list.format == .consensus)
        #expect(
            list.entries.map(\.description) == [
                "178.218.144.18", "185.220.101.33", "2a0b:f4c2:2::33", "192.0.2.88", "192.0.2.89",
            ]
        )
        #expect(list.rejected.isEmpty)
    }

    static let microdescFlavour = """
        @type network-status-microdesc-consensus-3 1.0
        network-status-version 3 microdesc
        vote-status consensus
        r seele AAoQ1DAR6kkoo19hBAX5K0QztNw 2022-11-19 03:58:26 104.53.221.159 9001 0
        m Ks2Qsa4+hU9UKQOB8aiV2THRNfTSvT8nPiaRAf0vW6s
        s Fast HSDir Running Stable V2Dir Valid
        r titamon3 ABElTMhEQ2myDvERVriZBDgiGlQ 2022-11-18 21:31:58 178.218.144.18 443 0
        m 7tAjdMhB4iY8nbXIyGUZMyBE5bUJE+PEq7KZGEq7bqo
        s Exit Fast Guard HSDir Running Stable V2Dir Valid
        r ForPrivacyNET ADb6NqtDX9XQ9kBiZjaGfr+3LGg 2022-11-18 18:01:58 185.220.101.33 10133 0
        a [2a0b:f4c2:2::33]:10133
        m SVu1dp9ohYBwhJB5DZx+oCBLcHmHJQk3gBIfwMrrbgs
        s Exit Fast Running Stable Valid
        v Tor 0.4.7.10
        r broken ADb6NqtDX9XQ9kBiZjaGfr+3LGg 2022-11-18 18:01:58 185.220.101.300 10133 0
        a 2001:db8::1:443
        s Exit Fast Running Stable Valid
        directory-footer
        """

    @Test func readsExitRelaysOfTheMicrodescFlavour() throws {
        let list = try parse(Self.microdescFlavour)
        #expect(list.format == .consensus)
        #expect(list.entries.map(\.description) == ["178.218.144.18", "185.220.101.33", "2a0b:f4c2:2::33"])
        #expect(list.rejected.map(\.line) == [15, 16])
        #expect(list.rejected[0].reason == "'r' line address is not an IPv4 address: '185.220.101.300'")
        #expect(list.rejected[1].reason == "'a' line is not 'a address:port': 'a 2001:db8::1:443'")
    }

    @Test func reportsBadLinesOnlyForRelaysThatCount() throws {
        let text = """
            network-status-version 3
            r short AAoQ1DAR6kkoo19hBAX5K0QztNw 104.53.221.159 9001 0
            s Running Valid
            r exit AAoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 104.53.221.160 9001 0
            a [2001:db8::1]
            s Exit
            """
        let list = try parse(text)
        #expect(list.entries == [prefix("104.53.221.160")])
        #expect(list.rejected.map(\.line) == [5])
    }

    @Test func consensusWithoutRelaysIsMalformed() {
        #expect(
            parseError("network-status-version 3\nvote-status consensus\n")
                == .malformed(format: .consensus, line: 2, reason: "no relay ('r') line")
        )
    }

    @Test func consensusWithoutExitsHasNoEntry() {
        let text = """
            network-status-version 3
            r seele AAoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 104.53.221.159 9001 0
            s Fast Running Valid
            """
        #expect(parseError(text) == .noValidEntry(rejected: 0, firstError: nil))
    }

    @Test func relayWithExitButNoSLineDoesNotCount() throws {
        let text = """
            network-status-version 3
            r a AAoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 192.0.2.1 9001 0
            r b AAoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 192.0.2.2 9001 0
            s Exit
            """
        #expect(try parse(text).entries == [prefix("192.0.2.2")])
    }
}
