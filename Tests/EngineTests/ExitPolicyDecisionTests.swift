import ExitSet
import NetfilterQueue
import Testing

@testable import Engine

/// `Policy.exitPolicy`: listed exits judged by their port policy, per family and direction.
@Suite struct ExitPolicyDecisionTests {
    static let consensus = """
        r web AAoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 198.51.100.7 9001 0
        a [2001:db8:bad::10]:9001
        s Exit Running Valid
        p accept 80,443
        directory-footer
        """

    static let exits: ExitSet = {
        let list = try! ListParser.parse(Array(consensus.utf8), format: .consensus)
        // An IPv6 policy too (Onionoo's exit_policy_v6_summary), set by hand.
        var policies = list.policies
        policies[IPPrefix("2001:db8:bad::10")!] = PortPolicy(accepting: [443...443])
        return ExitSet(list.entries + [IPPrefix("192.0.2.0/24")!], policies: policies)
    }()

    static let sets = PolicySets(exits: exits)

    static func tcp(_ source: UInt16, _ destination: UInt16) -> TransportPorts {
        .ports(protocolNumber: 6, source: source, destination: destination)
    }

    @Test func sourceModeJudgesTheDestinationPort() {
        let policy = Policy(exitPolicy: true)
        let header = PolicyModeTests.header("198.51.100.7", "203.0.113.1")
        #expect(policy.judge(packet(header, ports: Self.tcp(40000, 443)), in: Self.sets).decision == .listedSource)
        #expect(policy.judge(packet(header, ports: Self.tcp(443, 22)), in: Self.sets).decision == .outsidePolicy)
        let udp = TransportPorts.ports(protocolNumber: 17, source: 5000, destination: 80)
        #expect(policy.judge(packet(header, ports: udp), in: Self.sets).decision == .listedSource)
        // No ports (ICMP) or ports not copied: judged on the address.
        #expect(policy.judge(packet(header, ports: .none), in: Self.sets).decision == .listedSource)
        let unread = TransportPorts(kind: .unread, protocolNumber: 6, source: 0, destination: 0)
        #expect(policy.judge(packet(header, ports: unread), in: Self.sets).decision == .listedSource)
        // Off: the address alone.
        #expect(Policy().judge(packet(header, ports: Self.tcp(443, 22)), in: Self.sets).decision == .listedSource)
        #expect(policy.judge(packet(header, ports: Self.tcp(443, 22)), in: Self.sets).verdict == .accept)
    }

    @Test func ipv6UsesItsOwnPolicy() {
        let policy = Policy(exitPolicy: true)
        let header = PolicyModeTests.header("2001:db8:bad::10", "2001:db8::1")
        #expect(policy.judge(packet(header, ports: Self.tcp(40000, 443)), in: Self.sets).decision == .listedSource)
        #expect(policy.judge(packet(header, ports: Self.tcp(40000, 80)), in: Self.sets).decision == .outsidePolicy)
    }

    @Test func destinationModeJudgesTheSourcePort() {
        let policy = Policy(match: .destination, exitPolicy: true)
        let header = PolicyModeTests.header("203.0.113.1", "198.51.100.7")
        #expect(
            policy.judge(packet(header, ports: Self.tcp(80, 40000)), in: Self.sets).decision == .listedDestination
        )
        #expect(policy.judge(packet(header, ports: Self.tcp(40000, 80)), in: Self.sets).decision == .outsidePolicy)
    }

    @Test func bothModeAndPrefixes() {
        let policy = Policy(match: .both, exitPolicy: true)
        let header = PolicyModeTests.header("198.51.100.7", "203.0.113.1")
        #expect(policy.judge(packet(header, ports: Self.tcp(80, 22)), in: Self.sets).decision == .outsidePolicy)
        // A prefix entry covers every port.
        let toPrefix = PolicyModeTests.header("198.51.100.7", "192.0.2.9")
        #expect(
            policy.judge(packet(toPrefix, ports: Self.tcp(80, 22)), in: Self.sets).decision == .listedDestination
        )
        let allow = ExitSet([IPPrefix("203.0.113.1")!])
        #expect(
            policy.judge(packet(header, ports: Self.tcp(80, 443)), in: PolicySets(exits: Self.exits, allowlist: allow))
                .decision
                == .allowlisted
        )
    }

    @Test func counts() {
        var values = CounterValues()
        let header = PolicyModeTests.header("198.51.100.7", "203.0.113.1")
        let policy = Policy(exitPolicy: true)
        let unread = TransportPorts(kind: .unread, protocolNumber: 6, source: 0, destination: 0)
        values.count(header, policy.judge(packet(header, ports: Self.tcp(443, 22)), in: Self.sets))
        values.count(header, policy.judge(packet(header, ports: unread), in: Self.sets))
        #expect(values[.outsidePolicy] == 1)
        #expect(values[.policyPortsUnread] == 1)
        #expect(values[.accepted] == 1)
        #expect(values[.dropped] == 1)
    }
}
