import ExitSet
import Testing

@testable import ExitBlock

@Suite struct RuleSetTests {
    private func rules(_ change: (inout RuleSettings) -> Void = { _ in }) throws -> RuleSet {
        var settings = RuleSettings()
        change(&settings)
        return try RuleSet(settings)
    }

    @Test func defaultsQueueAllForwardedTrafficOfBothFamiliesToQueue0WithBypass() throws {
        let set = try rules()
        #expect(set.families == [.ipv4, .ipv6])
        for family in RuleSettings.Family.allCases {
            #expect(
                set.listing(for: family) == [
                    "-A FORWARD -j EXITBLOCK",
                    "-A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass",
                ]
            )
        }
    }

    @Test func everyOptionAsIptablesSavePrintsIt() throws {
        let set = try rules {
            $0.hooks = [.forward, .input]
            $0.queues = 2...5
            $0.queueCPUFanout = true
            $0.inInterfaces = ["eth0", "ppp+"]
            $0.protocols = [.tcp, .udp]
            $0.destinationPorts = [RuleSettings.PortRange("443")!, RuleSettings.PortRange("8000-8080")!]
            $0.skipDestinations = ["10.1.2.3/8", "2001:DB8:0::/32", "192.0.2.7"].map { IPPrefix($0)! }
            $0.mode = .flow
            $0.reject = true
        }
        let queue = "-m conntrack --ctstate NEW -j NFQUEUE --queue-balance 2:5 --queue-bypass --queue-cpu-fanout"
        #expect(
            set.listing(for: .ipv4) == [
                "-A INPUT -j EXITBLOCK",
                "-A FORWARD -j EXITBLOCK",
                "-A EXITBLOCK -p tcp -m mark --mark 0x4542 -j REJECT --reject-with tcp-reset",
                "-A EXITBLOCK -m mark --mark 0x4542 -j REJECT --reject-with icmp-admin-prohibited",
                "-A EXITBLOCK -d 10.0.0.0/8 -j RETURN",
                "-A EXITBLOCK -d 192.0.2.7/32 -j RETURN",
                "-A EXITBLOCK -i eth0 -p tcp -m multiport --dports 443,8000:8080 \(queue)",
                "-A EXITBLOCK -i eth0 -p udp -m multiport --dports 443,8000:8080 \(queue)",
                "-A EXITBLOCK -i ppp+ -p tcp -m multiport --dports 443,8000:8080 \(queue)",
                "-A EXITBLOCK -i ppp+ -p udp -m multiport --dports 443,8000:8080 \(queue)",
            ]
        )
        #expect(
            set.chainRules(for: .ipv6).prefix(3) == [
                "-A EXITBLOCK -p tcp -m mark --mark 0x4542 -j REJECT --reject-with tcp-reset",
                "-A EXITBLOCK -m mark --mark 0x4542 -j REJECT --reject-with icmp6-adm-prohibited",
                "-A EXITBLOCK -d 2001:db8::/32 -j RETURN",
            ]
        )
        #expect(set.chainRules(for: .ipv6).count == 7)
    }

    @Test func icmpIsIcmpv6ForIPv6() throws {
        let set = try rules { $0.protocols = [.icmp] }
        #expect(set.chainRules(for: .ipv4) == ["-A EXITBLOCK -p icmp -j NFQUEUE --queue-num 0 --queue-bypass"])
        #expect(set.chainRules(for: .ipv6) == ["-A EXITBLOCK -p ipv6-icmp -j NFQUEUE --queue-num 0 --queue-bypass"])
    }

    @Test func failClosedAndFlowMode() throws {
        let set = try rules {
            $0.queueBypass = false
            $0.mode = .flow
            $0.families = [.ipv6]
        }
        #expect(set.families == [.ipv6])
        #expect(
            set.chainRules(for: .ipv6) == ["-A EXITBLOCK -m conntrack --ctstate NEW -j NFQUEUE --queue-num 0"]
        )
    }

    @Test func portsWithoutProtocolMeanTcpAndUdp() throws {
        let set = try rules { $0.destinationPorts = [RuleSettings.PortRange(53, 53)!] }
        #expect(
            set.chainRules(for: .ipv4) == [
                "-A EXITBLOCK -p tcp -m multiport --dports 53 -j NFQUEUE --queue-num 0 --queue-bypass",
                "-A EXITBLOCK -p udp -m multiport --dports 53 -j NFQUEUE --queue-num 0 --queue-bypass",
            ]
        )
    }

    @Test func multiportListsHoldFifteenSlotsARangeTakingTwo() {
        let numbers: [UInt16] = Array(1...20)
        let singles = numbers.map { RuleSettings.PortRange($0, $0)! }
        let groups = RuleSet.multiportGroups(singles)
        let first: String = numbers.prefix(15).map { String($0) }.joined(separator: ",")
        #expect(groups == [first, "16,17,18,19,20"])
        let starts: [UInt16] = [1, 101, 201, 301, 401, 501, 601, 701]
        let ranges = starts.map { RuleSettings.PortRange($0, $0 + 49)! }
        let rangeGroups = RuleSet.multiportGroups(ranges)
        #expect(rangeGroups.count == 2)
        #expect(rangeGroups[0].split(separator: ",").count == 7)
        #expect(rangeGroups[1] == "701:750")
    }

    @Test func repeatedValuesAreDroppedKeepingOrder() throws {
        let set = try rules {
            $0.inInterfaces = ["eth1", "eth0", "eth1"]
            $0.protocols = [.udp, .tcp, .udp]
        }
        #expect(set.settings.inInterfaces == ["eth1", "eth0"])
        #expect(set.settings.protocols == [.udp, .tcp])
        #expect(set.chainRules(for: .ipv4).count == 4)
    }

    @Test func rejectMarkIsPrintedInHex() throws {
        let set = try rules {
            $0.reject = true
            $0.rejectMark = 255
        }
        #expect(
            set.chainRules(for: .ipv4)[0] == "-A EXITBLOCK -p tcp -m mark --mark 0xff -j REJECT --reject-with tcp-reset"
        )
    }

    @Test func badSettingsNameTheSetting() {
        func setting(_ change: (inout RuleSettings) -> Void) -> String? {
            do {
                _ = try rules(change)
                return nil
            } catch {
                return (error as? RuleSettingsError)?.setting
            }
        }
        #expect(setting { $0.hooks = [] } == "hook")
        #expect(setting { $0.families = [] } == "family")
        #expect(setting { $0.queueCPUFanout = true } == "queue-cpu-fanout")
        #expect(setting { $0.inInterfaces = ["a-very-long-interface-name"] } == "in-interface")
        #expect(setting { $0.inInterfaces = ["eth 0"] } == "in-interface")
        #expect(setting { $0.inInterfaces = ["eth+0"] } == "in-interface")
        #expect(setting { $0.inInterfaces = ["+"] } == "in-interface")
        #expect(setting { $0.inInterfaces = [""] } == "in-interface")
        #expect(
            setting {
                $0.protocols = [.tcp, .icmp]
                $0.destinationPorts = [RuleSettings.PortRange("80")!]
            } == "destination-port"
        )
        #expect(
            setting {
                $0.reject = true
                $0.rejectMark = 0
            } == "reject-mark"
        )
        #expect(setting { $0.inInterfaces = ["eth0.100", "br-lan", "wg0", "ppp+"] } == nil)
    }

    @Test func portRangeText() {
        #expect(RuleSettings.PortRange("443")?.description == "443")
        #expect(RuleSettings.PortRange("8000-8080")?.description == "8000-8080")
        #expect(RuleSettings.PortRange("8000:8080")?.description == "8000-8080")
        for bad in ["0", "65536", "90-80", "", "-", "1-", "+5", "1-2-3", "a"] {
            #expect(RuleSettings.PortRange(bad) == nil, "\(bad)")
        }
    }

    // MARK: - Changes to a table

    private let plainTable = FilterTable(
        save: """
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT ACCEPT [0:0]
            -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            """
    )

    @Test func installIntoATableWithoutTheChainCreatesItAndInsertsTheJumps() throws {
        let set = try rules { $0.hooks = [.input, .forward] }
        #expect(
            set.installScript(for: .ipv4, current: plainTable) == [
                "*filter",
                ":EXITBLOCK - [0:0]",
                "-A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass",
                "-I INPUT 1 -j EXITBLOCK",
                "-I FORWARD 1 -j EXITBLOCK",
                "COMMIT",
            ]
        )
        #expect(
            set.installScript(for: .ipv4, current: FilterTable()) == set.installScript(for: .ipv4, current: plainTable)
        )
    }

    @Test func installOverAnInstalledChainRefillsItAndAddsNoJump() throws {
        let set = try rules()
        let installed = FilterTable(
            save: """
                *filter
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :EXITBLOCK - [0:0]
                -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                -A FORWARD -j EXITBLOCK
                -A EXITBLOCK -j NFQUEUE --queue-num 7
                COMMIT
                """
        )
        #expect(
            set.installScript(for: .ipv4, current: installed) == [
                "*filter",
                ":EXITBLOCK - [0:0]",
                "-A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass",
                "COMMIT",
            ]
        )
    }

    @Test func installDeletesRepeatedAndUnconfiguredJumpsButNotTheOperatorsOwn() throws {
        let set = try rules()  // forward only
        let messy = FilterTable(
            save: """
                *filter
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :EXITBLOCK - [0:0]
                :MINE - [0:0]
                -A INPUT -j EXITBLOCK
                -A FORWARD -i eth9 -j EXITBLOCK
                -A FORWARD -j EXITBLOCK
                -A FORWARD -j EXITBLOCK
                -A MINE -j EXITBLOCK
                -A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass
                COMMIT
                """
        )
        #expect(
            set.installScript(for: .ipv4, current: messy) == [
                "*filter",
                ":EXITBLOCK - [0:0]",
                "-A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass",
                "-D INPUT -j EXITBLOCK",
                "-D FORWARD -i eth9 -j EXITBLOCK",
                "-D FORWARD -j EXITBLOCK",
                "COMMIT",
            ]
        )
    }

    @Test func removeDeletesEveryJumpThenTheChain() throws {
        let installed = FilterTable(
            save: """
                *filter
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :EXITBLOCK - [0:0]
                :MINE - [0:0]
                -A INPUT -j EXITBLOCK
                -A FORWARD -j EXITBLOCK
                -A MINE -g EXITBLOCK
                -A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass
                COMMIT
                """
        )
        #expect(
            RuleSet.removeScript(current: installed) == [
                "*filter",
                "-D INPUT -j EXITBLOCK",
                "-D FORWARD -j EXITBLOCK",
                "-D MINE -g EXITBLOCK",
                "-F EXITBLOCK",
                "-X EXITBLOCK",
                "COMMIT",
            ]
        )
        #expect(RuleSet.removeScript(current: plainTable) == nil)
        #expect(RuleSet.removeScript(current: FilterTable()) == nil)
    }

    @Test func installedListingMatchesThePlanWhenTheTableHoldsIt() throws {
        let set = try rules {
            $0.hooks = [.input, .forward]
            $0.reject = true
            $0.protocols = [.icmp]
        }
        for family in RuleSettings.Family.allCases {
            // The table iptables-save would print after install: chains, then rules chain by chain.
            let lines =
                [
                    "*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [3:180]", ":OUTPUT ACCEPT [0:0]",
                    ":EXITBLOCK - [0:0]",
                ]
                + set.listing(for: family) + ["COMMIT"]
            let table = FilterTable(save: lines.joined(separator: "\n"))
            #expect(RuleSet.listing(installed: table) == set.listing(for: family))
        }
        #expect(RuleSet.listing(installed: plainTable) == nil)
    }

    // MARK: - nftables

    @Test func nftablesRulesetOfEveryOption() throws {
        let set = try rules {
            $0.hooks = [.input, .forward]
            $0.queues = 0...3
            $0.queueCPUFanout = true
            $0.inInterfaces = ["eth0", "ppp+"]
            $0.protocols = [.tcp, .icmp]
            $0.skipDestinations = ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"].map { IPPrefix($0)! }
            $0.mode = .flow
            $0.reject = true
        }
        #expect(
            set.nftablesRuleset == """
                #!/usr/sbin/nft -f
                # exitblock rules for nftables: `nft -f` this file (or include it); it replaces
                # table inet exitblock in one transaction. Generated by `exitblock rules show --nft`.
                table inet exitblock
                delete table inet exitblock
                table inet exitblock {
                \tchain filter {
                \t\tmeta mark 0x4542 meta l4proto tcp reject with tcp reset
                \t\tmeta mark 0x4542 reject with icmpx admin-prohibited
                \t\tip daddr { 10.0.0.0/8, 192.168.0.0/16 } return
                \t\tip6 daddr 2001:db8::/32 return
                \t\tiifname { "eth0", "ppp*" } meta l4proto { tcp, icmp, ipv6-icmp } ct state new queue num 0-3 fanout,bypass
                \t}
                \tchain input {
                \t\ttype filter hook input priority filter; policy accept;
                \t\tjump filter
                \t}
                \tchain forward {
                \t\ttype filter hook forward priority filter; policy accept;
                \t\tjump filter
                \t}
                }

                """
        )
    }

    @Test func nftablesRulesetForOneFamilyAndPorts() throws {
        let set = try rules {
            $0.families = [.ipv6]
            $0.queueBypass = false
            $0.destinationPorts = [RuleSettings.PortRange("80")!, RuleSettings.PortRange("8000:8080")!]
        }
        #expect(set.nftablesChainRules == ["meta l4proto { tcp, udp } th dport { 80, 8000-8080 } queue num 0"])
        #expect(set.nftablesRuleset.contains("\t\tmeta nfproto ipv6 jump filter\n"))
        #expect(!set.nftablesRuleset.contains("chain input"))
    }
}
