import Engine
import ExitSet
import NetfilterQueue
import SeededRandom

/// What `--exit-policy` is for: a traffic mix from the real consensus's exit addresses, half
/// of it to ports their published policies accept (can be Tor traffic), half to ports they
/// reject (cannot be: the relay host's own traffic, or a site sharing the address), judged by
/// `Policy` without and with `exitPolicy`. Counts, not timings: the figures are exact and the
/// same on every machine (seeded).
struct CollateralMeasurement {
    var dataDirectory: String
    var packets = 200_000

    func run(_ report: Report, checksum: inout UInt64) throws(BenchError) {
        report.section(
            "collateral: \(Report.grouped(packets)) TCP packets from the consensus's exits, "
                + "half to ports their policies accept, half to ports they reject"
        )
        let bytes = try BenchData.read("\(dataDirectory)/\(BenchData.consensus)")
        let list: ParsedList
        do {
            list = try ListParser.parse(bytes, format: .consensus)
        } catch {
            throw .cannotParse(BenchData.consensus, "\(error)")
        }
        let set = ExitSet(list.entries, policies: list.policies)
        // Exit addresses by what their policy leaves out (an address without a policy, or
        // an IPv6 one, accepts every port and has no rejected half).
        let hosts = set.entries
        let withRejects = hosts.filter { set.policy(of: $0.address).map { !$0.isAll } ?? false }
        var rng = SeededGenerator(seed: 13)
        let customer4: UInt32 = 0xC633_6407  // 198.51.100.7
        let customer6 = IPv6Words(high: 0x2001_0db8_00c0_0000, low: 7)

        struct Probe {
            var header: NetworkHeader
            var ports: TransportPorts
            var canBeTor: Bool
        }
        var probes: [Probe] = []
        probes.reserveCapacity(packets)
        for index in 0..<packets {
            let toAccepted = index % 2 == 0
            let host = toAccepted ? hosts.randomElement(using: &rng)! : withRejects.randomElement(using: &rng)!
            let policy = set.policy(of: host.address) ?? .all
            let port =
                toAccepted ? Self.port(in: policy.ranges, using: &rng) : Self.port(in: policy.complement, using: &rng)
            let header: NetworkHeader
            switch host.address {
            case .v4(let v4): header = .ipv4(source: v4.value, destination: customer4)
            case .v6(let v6): header = .ipv6(source: IPv6Words(high: v6.high, low: v6.low), destination: customer6)
            }
            probes.append(
                Probe(
                    header: header,
                    ports: .ports(
                        protocolNumber: 6,
                        source: UInt16.random(in: 1024...65535, using: &rng),
                        destination: port
                    ),
                    canBeTor: policy.accepts(port)
                )
            )
        }
        let canBeTor = probes.filter(\.canBeTor).count
        report.note(
            "mix: \(Report.grouped(canBeTor)) packets to accepted ports, \(Report.grouped(packets - canBeTor)) to rejected "
                + "ports; \(Report.grouped(hosts.count)) exit addresses, \(Report.grouped(withRejects.count)) with a "
                + "policy that rejects some port, \(set.portPolicyList.count) distinct policies"
        )
        for (name, policy) in [("address only (default)", Policy()), ("--exit-policy", Policy(exitPolicy: true))] {
            var droppedTor = 0
            var droppedCollateral = 0
            var outside = 0
            let sets = PolicySets(exits: set)
            for probe in probes {
                let judgement = policy.judge(QueuedPacket(id: 0, header: probe.header, ports: probe.ports), in: sets)
                if judgement.decision == .outsidePolicy { outside += 1 }
                guard judgement.verdict != .accept else { continue }
                if probe.canBeTor { droppedTor += 1 } else { droppedCollateral += 1 }
            }
            checksum &+= UInt64(droppedTor &+ droppedCollateral)
            report.note(
                "\(name): dropped \(Report.grouped(droppedTor)) of \(Report.grouped(canBeTor)) that can be Tor traffic, "
                    + "\(Report.grouped(droppedCollateral)) of \(Report.grouped(packets - canBeTor)) that cannot "
                    + "(collateral); outside_policy \(Report.grouped(outside))"
            )
        }
    }

    /// A uniformly drawn port of `ranges` (1...65535 when empty).
    static func port(in ranges: [ClosedRange<UInt16>], using rng: inout SeededGenerator) -> UInt16 {
        let total = ranges.reduce(0) { $0 + $1.count }
        guard total > 0 else { return UInt16.random(in: 1...65535, using: &rng) }
        var pick = Int.random(in: 0..<total, using: &rng)
        for range in ranges {
            if pick < range.count { return range.lowerBound + UInt16(pick) }
            pick -= range.count
        }
        return ranges[0].lowerBound
    }
}
