import Engine
import ExitSet
import NetfilterQueue
import SeededRandom

/// Lookup rate on one core: `ExitSet.contains` over a stream of probes (10% listed, 90%
/// random), for the real lists and a synthetic 100,000-prefix list; then the worker's whole
/// per-packet userspace work without the system calls (snapshot read per burst, policy,
/// verdict batch).
struct LookupBenchmark {
    /// Minimum time of one timed repetition.
    var seconds: Double
    /// Timed repetitions; the median is reported.
    var repetitions: Int
    var dataDirectory: String

    static let probeCount = 1 << 20
    static let listedShare = 0.10

    func run(_ report: Report, checksum: inout UInt64) throws(BenchError) {
        report.section(
            "lookup: ExitSet.contains on one core, \(Int(Self.listedShare * 100))% listed probes, 90% random"
        )
        let bulk = try BenchData.entries("\(dataDirectory)/\(BenchData.bulkList)")
        let secops = try BenchData.entries("\(dataDirectory)/\(BenchData.secopsList)")
        let synthetic = BenchData.syntheticIPv4Prefixes(count: 100_000, seed: 42)

        let bulkSet = ExitSet(bulk)
        let secopsSet = ExitSet(secops)
        let syntheticSet = ExitSet(synthetic)

        let bulkProbes = BenchData.ipv4Probes(for: bulk, count: Self.probeCount, listedShare: Self.listedShare, seed: 1)
        let secopsProbes = BenchData.ipv4Probes(
            for: secops,
            count: Self.probeCount,
            listedShare: Self.listedShare,
            seed: 2
        )
        let secops6 = BenchData.ipv6Probes(for: secops, count: Self.probeCount, listedShare: Self.listedShare, seed: 3)
        let syntheticProbes = BenchData.ipv4Probes(
            for: synthetic,
            count: Self.probeCount,
            listedShare: Self.listedShare,
            seed: 4
        )

        let realGoal = 100.0
        for (name, set, probes) in [
            ("lookup ipv4, torbulkexitlist (\(Report.grouped(bulkSet.ipv4Count)) hosts)", bulkSet, bulkProbes),
            ("lookup ipv4, secops list (\(Report.grouped(secopsSet.ipv4Count)) hosts)", secopsSet, secopsProbes),
        ] {
            let result = measure { probes.withUnsafeBufferPointer { countIPv4Hits(set, $0) } }
            checksum &+= result.hits
            report.add(rateFigure(name, result, goal: realGoal))
        }
        let result6 = measure {
            secops6.high.withUnsafeBufferPointer { high in
                secops6.low.withUnsafeBufferPointer { low in countIPv6Hits(secopsSet, high, low) }
            }
        }
        checksum &+= result6.hits
        report.add(
            rateFigure(
                "lookup ipv6, secops list (\(Report.grouped(secopsSet.ipv6Count)) hosts)",
                result6,
                goal: realGoal
            )
        )

        let prefixCount = synthetic.filter { $0.length < 32 }.count
        let resultSynthetic = measure { syntheticProbes.withUnsafeBufferPointer { countIPv4Hits(syntheticSet, $0) } }
        checksum &+= resultSynthetic.hits
        report.add(
            rateFigure(
                "lookup ipv4, synthetic \(Report.grouped(syntheticSet.ipv4Count)) entries "
                    + "(\(Report.grouped(prefixCount)) prefixes /8-/31)",
                resultSynthetic,
                goal: 50
            )
        )

        report.section("hot path without system calls: read per 64-packet burst + Policy + VerdictBatch")
        let headers = Self.headers(ipv4: secopsProbes, ipv6: secops6, ipv6Share: 0.2, count: 1 << 16)
        let cell = SnapshotCell(PolicySets(exits: secopsSet))
        let reader = cell.makeReader()
        let batch = VerdictBatch(queue: 0, capacity: 64)
        let policy = Policy()
        let burst = measure {
            headers.withUnsafeBufferPointer { burstPass(reader, policy, batch, $0) }
        }
        checksum &+= burst.hits
        report.add(
            Figure(
                name: "per packet, secops list, 20% IPv6",
                value: 1e9 / burst.perSecond,
                unit: "ns",
                goal: nil,
                detail: "\(Report.format(burst.perSecond / 1e6)) M packets/s; \(hitShare(burst)) dropped"
            )
        )
        cell.removeReader(reader)
        try runPolicy(report, checksum: &checksum, secops6: secops6)
    }

    /// The same per-packet work on the real consensus's exits, judged on the address alone
    /// and with `exitPolicy` (ports: half 80/443, half others), plus the port-aware lookup rate.
    private func runPolicy(
        _ report: Report,
        checksum: inout UInt64,
        secops6: (high: [UInt64], low: [UInt64])
    ) throws(BenchError) {
        let bytes = try BenchData.read("\(dataDirectory)/\(BenchData.consensus)")
        let parsed: ParsedList
        do {
            parsed = try ListParser.parse(bytes, format: .consensus)
        } catch {
            throw .cannotParse(BenchData.consensus, "\(error)")
        }
        let set = ExitSet(parsed.entries, policies: parsed.policies)
        let probes = BenchData.ipv4Probes(
            for: parsed.entries,
            count: Self.probeCount,
            listedShare: Self.listedShare,
            seed: 5
        )
        let probes6 = BenchData.ipv6Probes(
            for: parsed.entries,
            count: Self.probeCount,
            listedShare: Self.listedShare,
            seed: 6
        )
        var rng = SeededGenerator(seed: 11)
        let commonPorts: [UInt16] = [80, 443, 22, 25, 8080, 6667]
        let ports = (0..<Self.probeCount).map { _ in
            Bool.random(using: &rng)
                ? commonPorts.randomElement(using: &rng)! : UInt16.random(in: 1...65535, using: &rng)
        }
        let plain = measure { probes.withUnsafeBufferPointer { countIPv4Hits(set, $0) } }
        checksum &+= plain.hits
        report.add(
            rateFigure("lookup ipv4, consensus (\(Report.grouped(set.ipv4Count)) hosts)", plain, goal: 100)
        )
        let result = measure {
            probes.withUnsafeBufferPointer { addresses in
                ports.withUnsafeBufferPointer { ports in countIPv4PolicyHits(set, addresses, ports) }
            }
        }
        checksum &+= result.hits
        report.add(
            rateFigure(
                "lookup ipv4 + port policy, consensus (\(Report.grouped(set.ipv4Count)) hosts, "
                    + "\(set.portPolicyList.count) policies)",
                result,
                goal: 100
            )
        )

        let headers = Self.headers(ipv4: probes, ipv6: probes6, ipv6Share: 0.2, count: 1 << 16)
        let packets = headers.enumerated().map { index, header in
            QueuedPacket(
                id: UInt32(index),
                header: header,
                ports: .ports(protocolNumber: 6, source: 40_000, destination: ports[index])
            )
        }
        let cell = SnapshotCell(PolicySets(exits: set))
        let reader = cell.makeReader()
        let batch = VerdictBatch(queue: 0, capacity: 64)
        var perPacket: [Double] = []
        for (name, policy) in [
            ("per packet, consensus, address only", Policy()),
            ("per packet, consensus, --exit-policy", Policy(exitPolicy: true)),
        ] {
            let burst = measure { packets.withUnsafeBufferPointer { packetPass(reader, policy, batch, $0) } }
            checksum &+= burst.hits
            perPacket.append(1e9 / burst.perSecond)
            var detail = "\(Report.format(burst.perSecond / 1e6)) M packets/s; \(hitShare(burst)) dropped"
            var goal: (text: String, met: Bool)? = nil
            if perPacket.count == 2 {
                let ratio = perPacket[1] / perPacket[0]
                detail += "; \(Report.fixed(ratio, decimals: 2))x address only"
                goal = ("<= 1.2x address only", ratio <= 1.2)
            }
            report.add(Figure(name: name, value: perPacket.last!, unit: "ns", goal: goal, detail: detail))
        }
        cell.removeReader(reader)
    }

    /// Headers as the receive path makes them: `ipv6Share` IPv6, the rest IPv4.
    static func headers(ipv4: [UInt32], ipv6: (high: [UInt64], low: [UInt64]), ipv6Share: Double, count: Int)
        -> [NetworkHeader]
    {
        var rng = SeededGenerator(seed: 9)
        return (0..<count).map { index in
            if Double.random(in: 0..<1, using: &rng) < ipv6Share {
                let source = IPv6Words(high: ipv6.high[index], low: ipv6.low[index])
                return .ipv6(source: source, destination: IPv6Words(high: 0x2001_0db8_0002_0000, low: 2))
            }
            return .ipv4(source: ipv4[index], destination: 0xC000_0212)
        }
    }

    struct Rate {
        var perSecond: Double
        var hits: UInt64
        var items: UInt64
    }

    /// Runs `pass` (one sweep over the probes, returning hits) until `seconds` have passed,
    /// `repetitions` times after one warm-up sweep; the median rate.
    private func measure(_ pass: () -> (hits: Int, items: Int)) -> Rate {
        _ = pass()
        var rates: [Double] = []
        var hits: UInt64 = 0
        var items: UInt64 = 0
        for _ in 0..<repetitions {
            var done: UInt64 = 0
            let start = BenchClock.now()
            var elapsed: UInt64 = 0
            repeat {
                let result = pass()
                hits &+= UInt64(result.hits)
                items &+= UInt64(result.items)
                done &+= UInt64(result.items)
                elapsed = BenchClock.now() &- start
            } while Double(elapsed) < seconds * 1e9
            rates.append(Double(done) / (Double(elapsed) / 1e9))
        }
        return Rate(perSecond: median(rates), hits: hits, items: items)
    }

    private func hitShare(_ rate: Rate) -> String {
        Report.fixed(100 * Double(rate.hits) / Double(max(rate.items, 1)), decimals: 1) + "%"
    }

    private func rateFigure(_ name: String, _ rate: Rate, goal: Double) -> Figure {
        let millions = rate.perSecond / 1e6
        return Figure(
            name: name,
            value: millions,
            unit: "M lookups/s",
            goal: (">= \(Int(goal)) M/s", millions >= goal),
            detail: "\(Report.format(1e9 / rate.perSecond)) ns each, \(hitShare(rate)) hits"
        )
    }
}

// The measured loops are free functions marked @inline(never) so that each is one function
// in a profile, and their results (hit counts) feed a printed checksum: the optimizer can
// neither drop nor hoist the lookups.

@inline(never)
func countIPv4Hits(_ set: ExitSet, _ probes: UnsafeBufferPointer<UInt32>) -> (hits: Int, items: Int) {
    var hits = 0
    for probe in probes {
        hits &+= set.contains(ipv4: probe) ? 1 : 0
    }
    return (hits, probes.count)
}

@inline(never)
func countIPv6Hits(_ set: ExitSet, _ high: UnsafeBufferPointer<UInt64>, _ low: UnsafeBufferPointer<UInt64>)
    -> (hits: Int, items: Int)
{
    var hits = 0
    for index in 0..<high.count {
        hits &+= set.contains(ipv6High: high[index], ipv6Low: low[index]) ? 1 : 0
    }
    return (hits, high.count)
}

@inline(never)
func countIPv4PolicyHits(_ set: ExitSet, _ probes: UnsafeBufferPointer<UInt32>, _ ports: UnsafeBufferPointer<UInt16>)
    -> (hits: Int, items: Int)
{
    var hits = 0
    for index in 0..<probes.count {
        hits &+= set.match(ipv4: probes[index], port: ports[index]) == .listed ? 1 : 0
    }
    return (hits, probes.count)
}

/// `burstPass` over packets with ports (the decision of `QueueWorker.answerBurst`).
@inline(never)
func packetPass(
    _ reader: SnapshotReader<PolicySets>,
    _ policy: Policy,
    _ batch: VerdictBatch,
    _ packets: UnsafeBufferPointer<QueuedPacket>
) -> (hits: Int, items: Int) {
    var dropped = 0
    var start = 0
    while start < packets.count {
        let end = min(start + 64, packets.count)
        reader.read { sets in
            for index in start..<end {
                let packet = packets[index]
                let verdict = policy.judge(packet, in: sets).verdict
                dropped &+= verdict == .accept ? 0 : 1
                batch.append(id: packet.id, verdict: verdict)
            }
        }
        batch.removeAll()
        start = end
    }
    return (dropped, packets.count)
}

/// The worker's per-burst userspace work (QueueWorker.answerBurst without the send), over
/// `headers` in bursts of 64.
@inline(never)
func burstPass(
    _ reader: SnapshotReader<PolicySets>,
    _ policy: Policy,
    _ batch: VerdictBatch,
    _ headers: UnsafeBufferPointer<NetworkHeader>
) -> (hits: Int, items: Int) {
    var dropped = 0
    var start = 0
    var id: UInt32 = 0
    while start < headers.count {
        let end = min(start + 64, headers.count)
        reader.read { sets in
            for index in start..<end {
                id &+= 1
                let verdict = policy.judge(QueuedPacket(id: id, header: headers[index]), in: sets).verdict
                dropped &+= verdict == .accept ? 0 : 1
                batch.append(id: id, verdict: verdict)
            }
        }
        batch.removeAll()
        start = end
    }
    return (dropped, headers.count)
}
