import ExitSet
import Testing

@testable import Rules

@Suite struct RuleSetTests {
    private func rules(_ change: (inout RuleSettings) -> Void = { _ in }) throws -> RuleSet {
        var settings = RuleSettings()
        // The caches have tests of their own (RuleSetDropCacheTests); these check the rest.
        settings.dropCache = false
        settings.acceptCache = false
        change(&settings)
        return try RuleSet(settings)
    }

    @Test func defaultsQueueAllForwardedTrafficOfBothFamiliesToQueue0WithBypassFromMangle() throws {
        let set = try rules()
        #expect(set.families == [.ipv4, .ipv6])
        for family in RuleSettings.Family.allCases {
            #expect(
                set.listing(for: family) == [
                    "*mangle",
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
        let queue = "-j NFQUEUE --queue-balance 2:5 --queue-bypass --queue-cpu-fanout"
        #expect(
            set.listing(for: .ipv4) == [
                "*mangle",
                "-A INPUT -j EXITBLOCK",
                "-A FORWARD -j EXITBLOCK",
                "-A EXITBLOCK -m conntrack ! --ctstate NEW -j RETURN",
                "-A EXITBLOCK -d 10.0.0.0/8 -j RETURN",
                "-A EXITBLOCK -d 192.0.2.7/32 -j RETURN",
                "-A EXITBLOCK -i eth0 -p tcp -m multiport --dports 443,8000:8080 \(queue)",
                "-A EXITBLOCK -i eth0 -p udp -m multiport --dports 443,8000:8080 \(queue)",
                "-A EXITBLOCK -i ppp+ -p tcp -m multiport --dports 443,8000:8080 \(queue)",
                "-A EXITBLOCK -i ppp+ -p udp -m multiport --dports 443,8000:8080 \(queue)",
                "*filter",
                "-A INPUT -j EXITBLOCK",
                "-A FORWARD -j EXITBLOCK",
                "-A EXITBLOCK -p tcp -m mark --mark 0x4542 -j REJECT --reject-with tcp-reset",
                "-A EXITBLOCK -m mark --mark 0x4542 -j REJECT --reject-with icmp-admin-prohibited",
            ]
        )
        #expect(
            set.rejectRules(for: .ipv6) == [
                "-A EXITBLOCK -p tcp -m mark --mark 0x4542 -j REJECT --reject-with tcp-reset",
                "-A EXITBLOCK -m mark --mark 0x4542 -j REJECT --reject-with icmp6-adm-prohibited",
            ]
        )
        #expect(set.queueRules(for: .ipv6)[1] == "-A EXITBLOCK -d 2001:db8::/32 -j RETURN")
        #expect(set.queueRules(for: .ipv6).count == 6)
    }

    @Test func icmpIsIcmpv6ForIPv6() throws {
        let set = try rules { $0.protocols = [.icmp] }
        #expect(set.queueRules(for: .ipv4) == ["-A EXITBLOCK -p icmp -j NFQUEUE --queue-num 0 --queue-bypass"])
        #expect(set.queueRules(for: .ipv6) == ["-A EXITBLOCK -p ipv6-icmp -j NFQUEUE --queue-num 0 --queue-bypass"])
    }

    @Test func failClosedAndFlowMode() throws {
        let set = try rules {
            $0.queueBypass = false
            $0.mode = .flow
            $0.families = [.ipv6]
        }
        #expect(set.families == [.ipv6])
        #expect(
            set.queueRules(for: .ipv6) == [
                "-A EXITBLOCK -m conntrack ! --ctstate NEW -j RETURN", "-A EXITBLOCK -j NFQUEUE --queue-num 0",
            ]
        )
    }

    @Test func portsWithoutProtocolMeanTcpAndUdp() throws {
        let set = try rules { $0.destinationPorts = [RuleSettings.PortRange(53, 53)!] }
        #expect(
            set.queueRules(for: .ipv4) == [
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
        #expect(set.queueRules(for: .ipv4).count == 4)
    }

    @Test func rejectMarkIsPrintedInHexWithItsMaskWhenNotEveryBit() throws {
        let set = try rules {
            $0.reject = true
            $0.rejectMark = 255
        }
        #expect(
            set.rejectRules(for: .ipv4)[0]
                == "-A EXITBLOCK -p tcp -m mark --mark 0xff -j REJECT --reject-with tcp-reset"
        )
        let masked = try rules {
            $0.reject = true
            $0.rejectMark = 0x100_0000
            $0.rejectMask = 0x100_0000
        }
        #expect(
            masked.rejectRules(for: .ipv6)[1]
                == "-A EXITBLOCK -m mark --mark 0x1000000/0x1000000 -j REJECT --reject-with icmp6-adm-prohibited"
        )
        #expect(
            masked.nftablesRejectRules[0] == "meta mark & 0x1000000 == 0x1000000 meta l4proto tcp reject with tcp reset"
        )
        #expect(try rules().rejectRules(for: .ipv4).isEmpty)
        #expect(try rules().rejectHookRules.isEmpty)
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
        #expect(
            setting {
                $0.reject = true
                $0.rejectMark = 0x3
                $0.rejectMask = 0x1
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

    // MARK: - Changes to the tables

    private static let emptyMangle = """
        *mangle
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        """

    private let plainMangle = SavedTable(save: RuleSetTests.emptyMangle + "\nCOMMIT\n", table: "mangle")

    /// A mangle table with an operator's MSS clamp in FORWARD.
    private let operatorMangle = SavedTable(
        save: RuleSetTests.emptyMangle + """

            -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
            COMMIT
            """,
        table: "mangle"
    )

    private let plainTable = SavedTable(
        save: """
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT ACCEPT [0:0]
            -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            COMMIT
            """
    )

    /// The filter-table layout that install migrates: the queue chain in filter, jumped to first.
    private let oldLayout = SavedTable(
        save: """
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT ACCEPT [0:0]
            :EXITBLOCK - [0:0]
            -A FORWARD -j EXITBLOCK
            -A FORWARD -s 10.77.1.0/24 -j DROP
            -A EXITBLOCK -j NFQUEUE --queue-num 11 --queue-bypass
            COMMIT
            """
    )

    @Test func installIntoEmptyTablesAppendsTheMangleJumpsAndLeavesFilterAlone() throws {
        let set = try rules { $0.hooks = [.input, .forward] }
        let script = set.installScript(for: .ipv4, mangle: operatorMangle, filter: plainTable)
        #expect(
            script == [
                "*mangle",
                ":EXITBLOCK - [0:0]",
                "-A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass",
                "-A INPUT -j EXITBLOCK",
                "-A FORWARD -j EXITBLOCK",
                "COMMIT",
            ]
        )
        #expect(set.installScript(for: .ipv4, mangle: SavedTable(), filter: SavedTable()) == script)
        #expect(!script.contains("*filter"))
    }

    @Test func installWithRejectPutsTheFilterJumpFirst() throws {
        let set = try rules { $0.reject = true }
        #expect(
            set.installScript(for: .ipv6, mangle: plainMangle, filter: plainTable) == [
                "*mangle",
                ":EXITBLOCK - [0:0]",
                "-A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass",
                "-A FORWARD -j EXITBLOCK",
                "COMMIT",
                "*filter",
                ":EXITBLOCK - [0:0]",
                "-A EXITBLOCK -p tcp -m mark --mark 0x4542 -j REJECT --reject-with tcp-reset",
                "-A EXITBLOCK -m mark --mark 0x4542 -j REJECT --reject-with icmp6-adm-prohibited",
                "-I FORWARD 1 -j EXITBLOCK",
                "COMMIT",
            ]
        )
    }

    @Test func installOverAnInstalledLayoutRefillsTheChainsAndMovesNoJump() throws {
        let set = try rules { $0.reject = true }
        let mangle = SavedTable(
            save: RuleSetTests.emptyMangle + """

                :EXITBLOCK - [0:0]
                -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
                -A FORWARD -j EXITBLOCK
                -A EXITBLOCK -j NFQUEUE --queue-num 7
                COMMIT
                """,
            table: "mangle"
        )
        let filter = SavedTable(
            save: """
                *filter
                :INPUT ACCEPT [0:0]
                :FORWARD ACCEPT [0:0]
                :OUTPUT ACCEPT [0:0]
                :EXITBLOCK - [0:0]
                -A FORWARD -j EXITBLOCK
                -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
                -A EXITBLOCK -p tcp -m mark --mark 0x4542 -j REJECT --reject-with tcp-reset
                COMMIT
                """
        )
        let script = set.installScript(for: .ipv4, mangle: mangle, filter: filter)
        #expect(script.filter { $0.hasPrefix("-D ") || $0.hasPrefix("-I ") || $0.hasPrefix("-A FORWARD") }.isEmpty)
        #expect(script.contains(":EXITBLOCK - [0:0]"))
        // Without reject, the filter chain goes with its jump.
        let plain = try rules()
        #expect(
            plain.installScript(for: .ipv4, mangle: mangle, filter: filter).suffix(5) == [
                "*filter", "-D FORWARD -j EXITBLOCK", "-F EXITBLOCK", "-X EXITBLOCK", "COMMIT",
            ]
        )
    }

    @Test func aMangleJumpThatIsNotLastIsMovedToTheEnd() throws {
        let set = try rules()
        let mangle = SavedTable(
            save: RuleSetTests.emptyMangle + """

                :EXITBLOCK - [0:0]
                -A FORWARD -j EXITBLOCK
                -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
                -A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass
                COMMIT
                """,
            table: "mangle"
        )
        #expect(
            set.installScript(for: .ipv4, mangle: mangle, filter: plainTable) == [
                "*mangle",
                ":EXITBLOCK - [0:0]",
                "-A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass",
                "-D FORWARD -j EXITBLOCK",
                "-A FORWARD -j EXITBLOCK",
                "COMMIT",
            ]
        )
    }

    @Test func installMovesTheOldLayoutToMangleInOneInput() throws {
        let set = try rules { $0.queues = 11...11 }
        #expect(RuleSet.hasOldLayout(filter: oldLayout))
        #expect(!RuleSet.hasOldLayout(filter: plainTable))
        #expect(
            set.installScript(for: .ipv4, mangle: plainMangle, filter: oldLayout) == [
                "*mangle",
                ":EXITBLOCK - [0:0]",
                "-A EXITBLOCK -j NFQUEUE --queue-num 11 --queue-bypass",
                "-A FORWARD -j EXITBLOCK",
                "COMMIT",
                "*filter",
                "-D FORWARD -j EXITBLOCK",
                "-F EXITBLOCK",
                "-X EXITBLOCK",
                "COMMIT",
            ]
        )
        // With reject, the old chain becomes the reject chain: its jump is first already.
        let reject = try rules {
            $0.queues = 11...11
            $0.reject = true
        }
        #expect(
            reject.installScript(for: .ipv4, mangle: plainMangle, filter: oldLayout).suffix(5) == [
                "*filter",
                ":EXITBLOCK - [0:0]",
                "-A EXITBLOCK -p tcp -m mark --mark 0x4542 -j REJECT --reject-with tcp-reset",
                "-A EXITBLOCK -m mark --mark 0x4542 -j REJECT --reject-with icmp-admin-prohibited",
                "COMMIT",
            ]
        )
    }

    @Test func installDeletesRepeatedAndUnconfiguredJumpsButNotTheOperatorsOwn() throws {
        let set = try rules()  // forward only
        let messy = SavedTable(
            save: RuleSetTests.emptyMangle + """

                :EXITBLOCK - [0:0]
                :MINE - [0:0]
                -A INPUT -j EXITBLOCK
                -A FORWARD -i eth9 -j EXITBLOCK
                -A FORWARD -j EXITBLOCK
                -A FORWARD -j EXITBLOCK
                -A MINE -j EXITBLOCK
                -A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass
                COMMIT
                """,
            table: "mangle"
        )
        #expect(
            set.installScript(for: .ipv4, mangle: messy, filter: plainTable) == [
                "*mangle",
                ":EXITBLOCK - [0:0]",
                "-A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass",
                "-D INPUT -j EXITBLOCK",
                "-D FORWARD -i eth9 -j EXITBLOCK",
                "-D FORWARD -j EXITBLOCK",
                "-D FORWARD -j EXITBLOCK",
                "-A FORWARD -j EXITBLOCK",
                "COMMIT",
            ]
        )
    }

    @Test func removeDeletesEveryJumpThenTheChainsOfBothLayouts() throws {
        let mangle = SavedTable(
            save: RuleSetTests.emptyMangle + """

                :EXITBLOCK - [0:0]
                :MINE - [0:0]
                -A INPUT -j EXITBLOCK
                -A FORWARD -j EXITBLOCK
                -A MINE -g EXITBLOCK
                -A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass
                COMMIT
                """,
            table: "mangle"
        )
        #expect(
            RuleSet.removeScript(mangle: mangle, filter: oldLayout) == [
                "*mangle",
                "-D INPUT -j EXITBLOCK",
                "-D FORWARD -j EXITBLOCK",
                "-D MINE -g EXITBLOCK",
                "-F EXITBLOCK",
                "-X EXITBLOCK",
                "COMMIT",
                "*filter",
                "-D FORWARD -j EXITBLOCK",
                "-F EXITBLOCK",
                "-X EXITBLOCK",
                "COMMIT",
            ]
        )
        #expect(RuleSet.removeScript(mangle: plainMangle, filter: oldLayout)?.first == "*filter")
        #expect(RuleSet.removeScript(mangle: plainMangle, filter: plainTable) == nil)
        #expect(RuleSet.removeScript(mangle: SavedTable(), filter: SavedTable()) == nil)
    }

    @Test func installedListingMatchesThePlanWhenTheTablesHoldIt() throws {
        let set = try rules {
            $0.hooks = [.input, .forward]
            $0.reject = true
            $0.protocols = [.icmp]
        }
        for family in RuleSettings.Family.allCases {
            // The tables iptables-save would print after install: chains, then rules chain by chain.
            let listing = set.listing(for: family)
            let split = listing.firstIndex(of: "*filter")!
            let mangle = SavedTable(
                save: ([RuleSetTests.emptyMangle, ":EXITBLOCK - [0:0]"] + listing[1..<split] + ["COMMIT"])
                    .joined(separator: "\n"),
                table: "mangle"
            )
            let filter = SavedTable(
                save: (["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [3:180]", ":EXITBLOCK - [0:0]"]
                    + listing[(split + 1)...] + ["COMMIT"]).joined(separator: "\n")
            )
            #expect(RuleSet.listing(mangle: mangle, filter: filter) == listing)
            let placement = RuleSet.placement(mangle: mangle, filter: filter)
            #expect(
                placement.contains(
                    "# where: mangle FORWARD (hook forward, priority -150): the jump to EXITBLOCK is rule 1 of 1"
                )
            )
            #expect(
                placement.contains {
                    $0.hasPrefix("# where: filter FORWARD (priority 0): the jump to the reject chain is rule 1 of 1")
                }
            )
            #expect(!placement.contains { $0.contains("warning") })
        }
        #expect(RuleSet.listing(mangle: plainMangle, filter: plainTable) == nil)
        #expect(RuleSet.listing(mangle: plainMangle, filter: oldLayout)?.first == "*filter")
    }

    @Test func placementWarnsAboutRulesAfterTheMangleJumpAndTheOldLayout() {
        let mangle = SavedTable(
            save: RuleSetTests.emptyMangle + """

                :EXITBLOCK - [0:0]
                -A FORWARD -j EXITBLOCK
                -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
                -A EXITBLOCK -j NFQUEUE --queue-num 0 --queue-bypass
                COMMIT
                """,
            table: "mangle"
        )
        let lines = RuleSet.placement(mangle: mangle, filter: oldLayout)
        #expect(lines.contains { $0.contains("warning: 1 rule(s) after it in mangle FORWARD") })
        #expect(lines.contains { $0.contains("warning: old layout") })
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
                # Where it sits: base chains of its own at priority mangle + 1 (-149, after the mangle
                # chains), policy accept. An accept here ends only these chains: the operator's chains
                # at the same hook (filter, priority 0) see every packet exitblock does not drop.
                table inet exitblock
                delete table inet exitblock
                table inet exitblock {
                \tchain judge {
                \t\tip daddr { 10.0.0.0/8, 192.168.0.0/16 } return
                \t\tip6 daddr 2001:db8::/32 return
                \t\tiifname { "eth0", "ppp*" } meta l4proto { tcp, icmp, ipv6-icmp } ct state new queue num 0-3 fanout,bypass
                \t}
                \tchain input {
                \t\ttype filter hook input priority mangle + 1; policy accept;
                \t\tjump judge
                \t}
                \tchain forward {
                \t\ttype filter hook forward priority mangle + 1; policy accept;
                \t\tjump judge
                \t}
                \tchain reject_marked {
                \t\tmeta mark 0x4542 meta l4proto tcp reject with tcp reset
                \t\tmeta mark 0x4542 reject with icmpx admin-prohibited
                \t}
                \tchain input_reject {
                \t\ttype filter hook input priority mangle + 2; policy accept;
                \t\tjump reject_marked
                \t}
                \tchain forward_reject {
                \t\ttype filter hook forward priority mangle + 2; policy accept;
                \t\tjump reject_marked
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
        #expect(set.nftablesRuleset.contains("\t\tmeta nfproto ipv6 jump judge\n"))
        #expect(!set.nftablesRuleset.contains("reject"))
        #expect(!set.nftablesRuleset.contains("chain input"))
    }
}
