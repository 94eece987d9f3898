import ExitSet
import NetfilterQueue
import Testing

@testable import Engine

@Suite struct PolicyTests {
    let set = ExitSet(
        ["198.51.100.7", "192.0.2.128/25", "2001:db8:bad::10", "2001:db8:f00::/48"].compactMap(IPPrefix.init)
    )

    private func v6(_ text: String) -> IPv6Words {
        guard case .v6(let address) = IPAddress(text)! else { fatalError("not IPv6: \(text)") }
        return IPv6Words(high: address.high, low: address.low)
    }

    private func v4(_ text: String) -> UInt32 {
        guard case .v4(let address) = IPAddress(text)! else { fatalError("not IPv4: \(text)") }
        return address.value
    }

    @Test func dropsListedSourcesOnly() {
        let policy = Policy()
        let cases: [(NetworkHeader, Verdict)] = [
            (.ipv4(source: v4("198.51.100.7"), destination: v4("203.0.113.1")), .drop),
            (.ipv4(source: v4("198.51.100.8"), destination: v4("203.0.113.1")), .accept),
            (.ipv4(source: v4("192.0.2.200"), destination: v4("203.0.113.1")), .drop),
            (.ipv4(source: v4("192.0.2.127"), destination: v4("203.0.113.1")), .accept),
            // The destination does not matter in source mode.
            (.ipv4(source: v4("203.0.113.1"), destination: v4("198.51.100.7")), .accept),
            (.ipv6(source: v6("2001:db8:bad::10"), destination: v6("2001:db8::1")), .drop),
            (.ipv6(source: v6("2001:db8:bad::11"), destination: v6("2001:db8::1")), .accept),
            (.ipv6(source: v6("2001:db8:f00:0:ffff::1"), destination: v6("2001:db8::1")), .drop),
            (.ipv6(source: v6("2001:db8:f01::1"), destination: v6("2001:db8::1")), .accept),
        ]
        for (header, expected) in cases {
            #expect(policy.judge(packet(header), in: PolicySets(exits: set)).verdict == expected, "\(header)")
        }
    }

    @Test func unparsablePacketsGetTheConfiguredVerdict() {
        let header = NetworkHeader.unparsable(.truncated)
        let sets = PolicySets(exits: set)
        #expect(Policy().judge(packet(header), in: sets).decision == .unparsable(.truncated))
        #expect(Policy().judge(packet(header), in: sets).verdict == .accept)
        #expect(Policy(unparsableVerdict: .drop).judge(packet(header), in: sets).verdict == .drop)
    }

    @Test func countingFollowsTheVerdict() {
        var tally = CounterValues()
        let listed = NetworkHeader.ipv4(source: v4("198.51.100.7"), destination: 1)
        let clean = NetworkHeader.ipv6(source: v6("2001:db8::5"), destination: v6("2001:db8::1"))
        let broken = NetworkHeader.unparsable(.notIP)
        let policy = Policy()
        for header in [listed, clean, clean, broken] {
            tally.count(header, policy.judge(packet(header), in: PolicySets(exits: set)))
        }
        #expect(tally[.packets] == 4)
        #expect(tally[.dropped] == 1)
        #expect(tally[.accepted] == 3)
        #expect(tally[.packets, .ipv4] == 1)
        #expect(tally[.dropped, .ipv4] == 1)
        #expect(tally[.packets, .ipv6] == 2)
        #expect(tally[.dropped, .ipv6] == 0)
        #expect(tally[.packets, .unparsable] == 1)
        #expect(tally[.wouldDrop] == 0 && tally[.rejected] == 0 && tally[.allowlisted] == 0)
        #expect(
            tally.description
                == "packets=4 accepted=3 dropped=1 unparsable=1 ipv4=1 ipv6=2 ipv4_dropped=1 ipv6_dropped=0 "
                + "allowlisted=0 rejected=0 would_drop=0 outside_policy=0"
        )
    }

    @Test func counterStorageFitsEveryCounter() {
        // CounterSlots' literal count is the one number written; it must match allCases.
        #expect(CounterValues().values.count == Counter.slotCount)
        #expect(WorkerCounters().read() == CounterValues())
        // Every slot belongs to exactly one (counter, family) or plain counter.
        var slots = Counter.allCases.flatMap { counter in
            counter.isPerFamily ? PacketFamily.allCases.map { counter.slot($0) } : [counter.slot]
        }
        slots.sort()
        #expect(slots == Array(0..<Counter.slotCount))
        // Keys are unique (37, as in /stats before the families were one counter, and the
        // two of queue rebinds), and every slot reads back from them.
        var values = CounterValues()
        for index in values.values.indices { values.values[index] = UInt64(index + 1) }
        #expect(values.keyed.count == 39)
        #expect(CounterValues(keyed: values.keyed) == values)
        #expect(Set(Counter.allCases.map(\.description)).count == Counter.allCases.count)
    }

    @Test func workerCountersSumAcrossBursts() {
        let counters = WorkerCounters()
        var tally = CounterValues()
        tally[.packets, .ipv4] = 2
        tally[.packets, .ipv6] = 1
        counters.add(tally)
        counters.add(tally)
        counters.set(.enobufs, to: 7)
        #expect(counters.read()[.packets] == 6)
        #expect(counters.read()[.packets, .ipv4] == 4)
        #expect(counters.read()[.enobufs] == 7)
        #expect((counters.read() + counters.read())[.packets] == 12)
    }
}
