import ExitSet
import Testing

@testable import Rules

@Suite struct RuleSetDropCacheTests {
    /// Rules with the drop cache on and the accept cache off, then `change`.
    private func rules(_ change: (inout RuleSettings) -> Void = { _ in }) throws -> RuleSet {
        var settings = RuleSettings()
        settings.acceptCache = false
        change(&settings)
        return try RuleSet(settings)
    }

    @Test func dropCacheDropsCachedSourcesBeforeTheQueueWithNoFilterChain() throws {
        let set = try rules()
        #expect(
            set.listing(for: .ipv4) == [
                "*mangle",
                "-A FORWARD -j EXITBLOCK",
                "-A EXITBLOCK -m set --match-set exitblock-drop4 src -m set ! --match-set exitblock-allow4 dst -j DROP",
                "-A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass",
            ]
        )
        #expect(!set.hasFilterChain)
        #expect(
            set.dropCacheCreateLine(for: .ipv6)
                == "create exitblock-drop6 hash:ip family inet6 timeout 60 counters"
        )
    }

    @Test func flowModeBothDirectionsAndRejectKeepTheQueueRulesMatches() throws {
        let set = try rules {
            $0.mode = .flow
            $0.match = .both
            $0.reject = true
            $0.protocols = [.tcp]
            $0.dropCacheTimeout = 90
        }
        #expect(
            set.queueRules(for: .ipv6) == [
                "-A EXITBLOCK -m conntrack ! --ctstate NEW -j RETURN",
                "-A EXITBLOCK -p tcp -m set --match-set exitblock-drop6 src "
                    + "-m set ! --match-set exitblock-allow6 dst -j MARK --set-xmark 0x4542/0xffffffff",
                "-A EXITBLOCK -p tcp -m set --match-set exitblock-drop6 dst "
                    + "-m set ! --match-set exitblock-allow6 src -j MARK --set-xmark 0x4542/0xffffffff",
                "-A EXITBLOCK -m mark --mark 0x4542 -j ACCEPT",
                "-A EXITBLOCK -p tcp -j NFQUEUE --queue-num 0 --queue-bypass",
            ]
        )
        #expect(
            set.filterRules(for: .ipv6) == [
                "-A EXITBLOCK -p tcp -m mark --mark 0x4542 -j REJECT --reject-with tcp-reset",
                "-A EXITBLOCK -m mark --mark 0x4542 -j REJECT --reject-with icmp6-adm-prohibited",
            ]
        )
        #expect(set.dropCacheCreateLine(for: .ipv4).hasSuffix("timeout 90 counters"))
    }

    @Test func nftablesRenderingHasTheSetsTheLookupAndTheUpdate() throws {
        let text = try rules { $0.match = .destination }.nftablesRuleset
        #expect(text.contains("\tset drop4 { type ipv4_addr; flags dynamic, timeout; timeout 60s; counter; }"))
        #expect(text.contains("\t\tip daddr @drop4 ip saddr != @allow4 drop\n"))
        #expect(text.contains("\tset allow6 { type ipv6_addr; flags interval; }"))
        #expect(!text.contains("update @") && !text.contains("cache_marked"))
    }

    @Test func aTimeoutOutsideIpsetsRangeIsRefused() {
        #expect(throws: RuleSettingsError.self) { try rules { $0.dropCacheTimeout = 0 } }
        #expect(throws: RuleSettingsError.self) { try rules { $0.dropCacheTimeout = 3_000_000 } }
    }

    @Test func theAcceptCacheRuleComesBeforeTheDropRuleWithTheJudgedAddress() throws {
        let set = try rules {
            $0.acceptCache = true
            $0.acceptCacheSize = 1000
            $0.acceptCacheTimeout = 30
            $0.match = .destination
            $0.protocols = [.tcp]
        }
        #expect(
            set.queueRules(for: .ipv4) == [
                "-A EXITBLOCK -p tcp -m set --match-set exitblock-accept4 dst -j ACCEPT",
                "-A EXITBLOCK -p tcp -m set --match-set exitblock-drop4 dst -m set ! --match-set exitblock-allow4 src "
                    + "-j DROP",
                "-A EXITBLOCK -p tcp -j NFQUEUE --queue-num 0 --queue-bypass",
            ]
        )
        #expect(
            set.acceptCacheCreateLine(for: .ipv6)
                == "create exitblock-accept6 hash:ip family inet6 timeout 30 maxelem 1000 counters"
        )
        let text = set.nftablesRuleset
        #expect(
            text.contains("\tset accept4 { type ipv4_addr; flags dynamic, timeout; timeout 30s; size 1000; counter; }")
        )
        // One lookup for a cached clean packet: the accept rule before the drop rule, per family.
        #expect(
            text.contains(
                "\t\tmeta l4proto tcp ip daddr @accept4 accept\n"
                    + "\t\tmeta l4proto tcp ip daddr @drop4 ip saddr != @allow4 drop\n"
            )
        )
        #expect(
            text.contains(
                "\t\tmeta l4proto tcp ip6 daddr @accept6 accept\n"
                    + "\t\tmeta l4proto tcp ip6 daddr @drop6 ip6 saddr != @allow6 drop\n"
            )
        )
        // No accept cache with both directions, in flow mode, or when asked not to.
        for change in [{ (s: inout RuleSettings) in s.match = .both }, { $0.mode = .flow }, { $0.acceptCache = false }]
        {
            let other = try rules {
                $0.acceptCache = true
                change(&$0)
            }
            #expect(!other.hasAcceptCache)
            #expect(other.queueRules(for: .ipv4).allSatisfy { !$0.contains("accept4") })
            #expect(!other.nftablesRuleset.contains("accept4"))
        }
        #expect(throws: RuleSettingsError.self) {
            try rules {
                $0.acceptCache = true
                $0.acceptCacheSize = 0
            }
        }
    }

    @Test func membersAndRuleCountersAreParsed() {
        let members = DropCacheSets.parseMembers(
            """
            create exitblock-drop4 hash:ip family inet hashsize 1024 maxelem 65536 timeout 60 counters
            add exitblock-drop4 198.51.100.10 timeout 57 packets 4 bytes 336
            add exitblock-drop6 2001:db8::1 timeout 3 packets 0 bytes 0

            """
        )
        #expect(members.count == 2 && members[0].packets == 4 && members[0].timeout == 57 && members[1].bytes == 0)
        #expect("\(members[1].address)" == "2001:db8::1")
        #expect(
            DropCacheSets.header(
                "family inet hashsize 1024 maxelem 65536 timeout 60 counters bucketsize 12",
                matches: "family inet timeout 60 counters"
            )
        )
        #expect(!DropCacheSets.header("family inet timeout 30 counters", matches: "family inet timeout 60 counters"))
    }
}

@Suite struct RuleSetDropCacheDefaultTests {
    @Test func bothCachesAreOnByDefault() throws {
        let set = try RuleSet(RuleSettings())
        #expect(set.settings.dropCache && set.hasAcceptCache)
        #expect(
            set.queueRules(for: .ipv4) == [
                "-A EXITBLOCK -m set --match-set exitblock-accept4 src -j ACCEPT",
                "-A EXITBLOCK -m set --match-set exitblock-drop4 src -m set ! --match-set exitblock-allow4 dst -j DROP",
                "-A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass",
            ]
        )
        #expect(!set.hasFilterChain)
    }
}
