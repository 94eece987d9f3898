import ExitSet
import NetfilterQueue
import Rules
import Testing

@testable import Engine

/// The policy in every mode and direction, and what each packet counts as.
@Suite struct PolicyModeTests {
    @Test func anEmptyAllowlistIsNotLookedUp() {
        #expect(PolicySets(exits: .empty, allowlist: .empty).activeAllowlist == nil)
    }

    static let exits = ExitSet(
        ["198.51.100.7", "192.0.2.128/25", "2001:db8:bad::10", "2001:db8:f00::/48"].compactMap(IPPrefix.init)
    )
    /// One listed host, a prefix inside a listed prefix, and a clean address, per family.
    static let allow = ExitSet(
        ["198.51.100.7", "192.0.2.192/26", "203.0.113.50", "2001:db8:bad::10", "2001:db8:a11::/48"].compactMap(
            IPPrefix.init
        )
    )

    static func v4(_ text: String) -> UInt32 {
        guard case .v4(let address) = IPAddress(text)! else { fatalError("not IPv4: \(text)") }
        return address.value
    }

    static func v6(_ text: String) -> IPv6Words {
        guard case .v6(let address) = IPAddress(text)! else { fatalError("not IPv6: \(text)") }
        return IPv6Words(high: address.high, low: address.low)
    }

    static func header(_ source: String, _ destination: String) -> NetworkHeader {
        source.contains(":")
            ? .ipv6(source: v6(source), destination: v6(destination))
            : .ipv4(source: v4(source), destination: v4(destination))
    }

    /// (source, destination, decision in source / destination / both mode), without allowlist.
    static let directionCases: [(String, String, Decision, Decision, Decision)] = [
        // Neither listed.
        ("203.0.113.1", "203.0.113.2", .accept, .accept, .accept),
        ("2001:db8::1", "2001:db8::2", .accept, .accept, .accept),
        // Source listed.
        ("198.51.100.7", "203.0.113.2", .listedSource, .accept, .listedSource),
        ("192.0.2.200", "203.0.113.2", .listedSource, .accept, .listedSource),
        ("2001:db8:bad::10", "2001:db8::2", .listedSource, .accept, .listedSource),
        ("2001:db8:f00:1::1", "2001:db8::2", .listedSource, .accept, .listedSource),
        // Destination listed.
        ("203.0.113.1", "198.51.100.7", .accept, .listedDestination, .listedDestination),
        ("203.0.113.1", "192.0.2.129", .accept, .listedDestination, .listedDestination),
        ("2001:db8::1", "2001:db8:bad::10", .accept, .listedDestination, .listedDestination),
        ("2001:db8::1", "2001:db8:f00::99", .accept, .listedDestination, .listedDestination),
        // Both listed: `both` names the source.
        ("198.51.100.7", "192.0.2.130", .listedSource, .listedDestination, .listedSource),
        ("2001:db8:bad::10", "2001:db8:f00::1", .listedSource, .listedDestination, .listedSource),
        // Just outside the prefixes.
        ("192.0.2.127", "198.51.100.8", .accept, .accept, .accept),
        ("2001:db8:f01::1", "2001:db8:bad::11", .accept, .accept, .accept),
    ]

    @Test(arguments: MatchDirection.allCases)
    func everyDirectionLooksUpItsAddresses(direction: MatchDirection) {
        let policy = Policy(match: direction)
        let sets = PolicySets(exits: Self.exits)
        for (source, destination, bySource, byDestination, byBoth) in Self.directionCases {
            let expected: Decision
            switch direction {
            case .source: expected = bySource
            case .destination: expected = byDestination
            case .both: expected = byBoth
            }
            let header = Self.header(source, destination)
            let judgement = policy.judge(packet(header), in: sets)
            #expect(judgement.decision == expected, "\(direction): \(source) -> \(destination)")
            let verdict: Verdict = expected.isListed ? .drop : .accept
            #expect(judgement.verdict == verdict)
            #expect(judgement.enforced == verdict && !judgement.cached && !judgement.returned)
        }
    }

    @Test(arguments: MatchDirection.allCases)
    func theAllowlistWinsOverTheExitSetOnEitherAddress(direction: MatchDirection) {
        let policy = Policy(match: direction)
        let sets = PolicySets(exits: Self.exits, allowlist: Self.allow)
        let allowlisted: [(String, String)] = [
            // A listed host that is also allowlisted, as source and as destination.
            ("198.51.100.7", "203.0.113.2"), ("203.0.113.2", "198.51.100.7"),
            ("2001:db8:bad::10", "2001:db8::2"), ("2001:db8::2", "2001:db8:bad::10"),
            // Inside an allowlisted prefix that lies inside a listed prefix.
            ("192.0.2.200", "203.0.113.2"), ("203.0.113.2", "192.0.2.200"),
            // A listed source talking to an allowlisted (clean) address: exempt too.
            ("192.0.2.130", "203.0.113.50"), ("2001:db8:f00::1", "2001:db8:a11::5"),
            ("203.0.113.50", "192.0.2.130"), ("2001:db8:a11::5", "2001:db8:f00::1"),
        ]
        for (source, destination) in allowlisted {
            let header = Self.header(source, destination)
            let judgement = policy.judge(packet(header), in: sets)
            #expect(judgement.decision == .allowlisted, "\(direction): \(source) -> \(destination)")
            #expect(judgement.verdict == .accept)
        }
        // Listed and not allowlisted: the exit set decides as without an allowlist.
        #expect(policy.judge(packet(Self.header("192.0.2.130", "192.0.2.131")), in: sets).decision.isListed)
        #expect(policy.judge(packet(Self.header("2001:db8:f00::1", "2001:db8:f00::2")), in: sets).decision.isListed)
    }

    @Test func anEmptyAllowlistIsSkipped() {
        #expect(PolicySets(exits: Self.exits).activeAllowlist == nil)
        #expect(PolicySets(exits: Self.exits, allowlist: ExitSet([])).activeAllowlist == nil)
        #expect(PolicySets(exits: Self.exits, allowlist: Self.allow).activeAllowlist === Self.allow)
    }

    @Test(arguments: MatchDirection.allCases)
    func dryRunAcceptsEverythingAndKnowsWhatItWouldDrop(direction: MatchDirection) {
        let policy = Policy(unparsableVerdict: .drop, match: direction, dryRun: true)
        let sets = PolicySets(exits: Self.exits)
        for (source, destination, _, _, _) in Self.directionCases {
            let header = Self.header(source, destination)
            let judgement = policy.judge(packet(header), in: sets)
            #expect(judgement.verdict == .accept)
            #expect(judgement.enforced == (judgement.decision.isListed ? .drop : .accept))
        }
        let broken = policy.judge(packet(.unparsable(.truncated)), in: sets)
        #expect(broken.verdict == .accept)
        #expect(broken.enforced == .drop)
    }

    @Test func rejectAcceptsListedPacketsWithTheMarkSet() {
        let policy = Policy(match: .both, action: .reject(mark: 0x4542))
        let sets = PolicySets(exits: Self.exits, allowlist: ExitSet(["203.0.113.50"].compactMap(IPPrefix.init)))
        func judge(_ policy: Policy, _ source: String, _ destination: String, mark: UInt32 = 0) -> Judgement {
            policy.judge(packet(Self.header(source, destination), mark: mark), in: sets)
        }
        func verdict(_ source: String, _ destination: String, mark: UInt32 = 0) -> Verdict {
            judge(policy, source, destination, mark: mark).verdict
        }
        #expect(verdict("198.51.100.7", "203.0.113.2") == .acceptMarked(mark: 0x4542))
        #expect(verdict("203.0.113.2", "192.0.2.200") == .acceptMarked(mark: 0x4542))
        #expect(verdict("2001:db8:bad::10", "2001:db8::2") == .acceptMarked(mark: 0x4542))
        #expect(verdict("203.0.113.1", "203.0.113.2") == .accept)
        #expect(verdict("198.51.100.7", "203.0.113.50") == .accept)
        // A clean packet that carries the mark for another reason is accepted.
        #expect(verdict("203.0.113.1", "203.0.113.2", mark: 0x4542) == .accept)
        // A listed packet back with the mark: no REJECT rule caught it, so it is dropped, not marked again.
        #expect(verdict("198.51.100.7", "203.0.113.2", mark: 0x4542) == .drop)
        #expect(verdict("198.51.100.7", "203.0.113.2", mark: 0x4543) == .acceptMarked(mark: 0x4542))
        #expect(judge(policy, "198.51.100.7", "203.0.113.2", mark: 0x4542).returned)
        #expect(!judge(policy, "203.0.113.1", "203.0.113.2", mark: 0x4542).returned)
        #expect(!judge(policy, "198.51.100.7", "203.0.113.2").returned)
        #expect(!judge(Policy(), "198.51.100.7", "203.0.113.2", mark: 0x4542).returned)
        // Unparsable packets keep their own verdict; dry-run still wins over reject.
        #expect(policy.judge(packet(.unparsable(.notIP)), in: sets).verdict == .accept)
        let dropUnparsable = Policy(unparsableVerdict: .drop, action: .reject(mark: 7))
        #expect(dropUnparsable.judge(packet(.unparsable(.notIP)), in: sets).verdict == .drop)
        var dry = policy
        dry.dryRun = true
        #expect(judge(dry, "198.51.100.7", "203.0.113.2").verdict == .accept)
        #expect(judge(dry, "198.51.100.7", "203.0.113.2").enforced == .acceptMarked(mark: 0x4542))
        #expect(!judge(dry, "198.51.100.7", "203.0.113.2", mark: 0x4542).returned)
    }

    @Test func rejectWithAMaskKeepsTheOperatorsOtherMarkBits() {
        let policy = Policy(action: .reject(mark: 0x100_0000, mask: 0x100_0000))
        let sets = PolicySets(exits: Self.exits)
        let listed = Self.header("198.51.100.7", "203.0.113.2")
        func judge(_ header: NetworkHeader, mark: UInt32) -> Judgement {
            policy.judge(packet(header, mark: mark), in: sets)
        }
        #expect(judge(listed, mark: 0).verdict == .acceptMarked(mark: 0x100_0000))
        #expect(judge(listed, mark: 0x2a).verdict == .acceptMarked(mark: 0x100_002a))
        #expect(judge(listed, mark: 0x100_002a).verdict == .drop)
        #expect(judge(listed, mark: 0x100_0001).returned)
        #expect(judge(Self.header("203.0.113.1", "203.0.113.2"), mark: 0x2a).verdict == .accept)
        #expect(policy.summary == "match source, reject (mark 0x1000000/0x1000000)")
        #expect(Policy.parseMarkMask("0x10/0x10")! == (0x10, 0x10))
        #expect(Policy.parseMarkMask("0x4542")! == (0x4542, 0xffff_ffff))
        for bad in ["0x10/0x1", "0/0x10", "0x10/", "0x10/0x10/0x10", "/0x10", "0x10/0"] {
            #expect(Policy.parseMarkMask(bad) == nil, "\(bad)")
        }
    }

    @Test func marksParseAsDecimalOrHex() {
        #expect(Policy.parseMark("0x4542") == 0x4542)
        #expect(Policy.parseMark("0X4542") == 0x4542)
        #expect(Policy.parseMark("17730") == 0x4542)
        #expect(Policy.parseMark("0xffffffff") == 0xffff_ffff)
        #expect(Policy.parseMark("4294967295") == 0xffff_ffff)
        for bad in ["0", "0x0", "0x", "", "-1", "4294967296", "0x100000000", "mark", "0x45g2", " 1"] {
            #expect(Policy.parseMark(bad) == nil, "\(bad)")
        }
    }

    @Test func summaryNamesTheMode() {
        #expect(Policy().summary == "match source, drop")
        #expect(
            Policy(match: .both, action: .reject(mark: 0x4542), dryRun: true).summary
                == "match both, reject (mark 0x4542), dry-run (accepting everything)"
        )
    }

    /// Counts a list of (header, mark) through `policy` as the worker does.
    static func tally(_ policy: Policy, _ sets: PolicySets, _ packets: [(NetworkHeader, UInt32)]) -> CounterValues {
        var tally = CounterValues()
        for (header, mark) in packets {
            tally.count(header, policy.judge(packet(header, mark: mark), in: sets))
        }
        return tally
    }

    static let traffic: [(NetworkHeader, UInt32)] = [
        (header("198.51.100.7", "203.0.113.2"), 0),  // listed, allowlisted below
        (header("192.0.2.130", "203.0.113.2"), 0),  // listed
        (header("192.0.2.131", "203.0.113.2"), 0x4542),  // listed, back with the reject mark
        (header("2001:db8:bad::10", "2001:db8::1"), 0),  // listed, allowlisted below
        (header("2001:db8:f00::1", "2001:db8::1"), 0),  // listed
        (header("2001:db8:f00::2", "2001:db8::1"), 0),  // listed
        (header("203.0.113.1", "203.0.113.2"), 0),  // clean
        (.unparsable(.truncated), 0),
    ]

    @Test func countersInEveryAction() {
        let sets = PolicySets(
            exits: Self.exits,
            allowlist: ExitSet(["198.51.100.7", "2001:db8:bad::10"].compactMap(IPPrefix.init))
        )

        let drop = Self.tally(Policy(), sets, Self.traffic)
        #expect(drop[.packets] == 8 && drop[.accepted] == 4 && drop[.dropped] == 4 && drop[.rejected] == 0)
        #expect(drop[.dropped, .ipv4] == 2 && drop[.dropped, .ipv6] == 2)
        #expect(drop[.allowlisted] == 2 && drop[.allowlisted, .ipv4] == 1 && drop[.allowlisted, .ipv6] == 1)
        #expect(drop[.wouldDrop] == 0 && drop[.rejectReturned] == 0)

        let reject = Self.tally(Policy(action: .reject(mark: 0x4542)), sets, Self.traffic)
        #expect(reject[.packets] == 8 && reject[.accepted] == 4)
        #expect(reject[.rejected] == 3 && reject[.rejected, .ipv4] == 1 && reject[.rejected, .ipv6] == 2)
        #expect(reject[.dropped] == 1 && reject[.dropped, .ipv4] == 1 && reject[.rejectReturned] == 1)

        let dry = Self.tally(
            Policy(unparsableVerdict: .drop, action: .reject(mark: 0x4542), dryRun: true),
            sets,
            Self.traffic
        )
        #expect(dry[.packets] == 8 && dry[.accepted] == 8 && dry[.dropped] == 0 && dry[.rejected] == 0)
        // Four listed packets and the unparsable one (its verdict would be drop).
        #expect(dry[.wouldDrop] == 5 && dry[.wouldDrop, .ipv4] == 2 && dry[.wouldDrop, .ipv6] == 2)
        #expect(dry[.allowlisted] == 2 && dry[.rejectReturned] == 0)
        #expect(
            dry.description
                == "packets=8 accepted=8 dropped=0 unparsable=1 ipv4=4 ipv6=3 ipv4_dropped=0 ipv6_dropped=0 "
                + "allowlisted=2 rejected=0 would_drop=5 outside_policy=0"
        )
    }
}
