import ExitSet
import Testing

@testable import Rules

/// `rules install --source PREFIX`: queueing limited to customer source prefixes.
@Suite struct RuleSetSourceTests {
    @Test func sourcePrefixesPerFamily() throws {
        var settings = RuleSettings()
        // The caches' rules repeat the selection; RuleSetDropCacheTests checks them.
        settings.dropCache = false
        settings.acceptCache = false
        settings.sources = ["10.0.0.0/8", "100.64.0.0/10", "2001:db8:c::/48", "10.0.0.0/8"].map { IPPrefix($0)! }
        settings.inInterfaces = ["eth0"]
        let set = try RuleSet(settings)
        #expect(
            set.queueRules(for: .ipv4) == [
                "-A EXITBLOCK -s 10.0.0.0/8 -i eth0 -j NFQUEUE --queue-num 0 --queue-bypass",
                "-A EXITBLOCK -s 100.64.0.0/10 -i eth0 -j NFQUEUE --queue-num 0 --queue-bypass",
            ]
        )
        #expect(
            set.queueRules(for: .ipv6) == [
                "-A EXITBLOCK -s 2001:db8:c::/48 -i eth0 -j NFQUEUE --queue-num 0 --queue-bypass"
            ]
        )
        #expect(
            set.nftablesRuleset.contains("ip saddr { 10.0.0.0/8, 100.64.0.0/10 } iifname \"eth0\" queue num 0 bypass")
        )
        #expect(set.nftablesRuleset.contains("ip6 saddr 2001:db8:c::/48 iifname \"eth0\" queue num 0 bypass"))
    }

    @Test func everyFamilyNeedsAPrefix() throws {
        var settings = RuleSettings()
        // The caches' rules repeat the selection; RuleSetDropCacheTests checks them.
        settings.dropCache = false
        settings.acceptCache = false
        settings.sources = [IPPrefix("10.0.0.0/8")!]
        #expect(throws: RuleSettingsError.self) { try RuleSet(settings) }
        settings.families = [.ipv4]
        #expect(try RuleSet(settings).queueRules(for: .ipv4).count == 1)
    }
}
