import ExitSet
import Testing

@Suite("ExitSet")
struct ExitSetTests {
    @Test func deduplicatesAndSorts() {
        let set = ExitSet(
            [
                "2001:db8::1", "10.0.0.0/8", "1.2.3.4", "::ffff:1.2.3.4", "1.2.3.4/32", "2001:db8::/32",
                "10.0.0.0/16", "10.0.0.0/8", "::", "0.0.0.0", "255.255.255.255",
            ].map(prefix)
        )
        #expect(
            set.entries.map(\.description) == [
                "0.0.0.0", "1.2.3.4", "10.0.0.0/8", "10.0.0.0/16", "255.255.255.255", "::", "2001:db8::/32",
                "2001:db8::1",
            ]
        )
        #expect(set.count == 8)
        #expect(set.ipv4Count == 5)
        #expect(set.ipv6Count == 3)
    }

    @Test func emptySetContainsNothing() {
        let set = ExitSet.empty
        #expect(set.count == 0)
        #expect(!set.contains(ipv4: 0))
        #expect(!set.contains(ipv4: .max))
        #expect(!set.contains(ipv6High: 0, ipv6Low: 0))
        #expect(!set.contains(ipv6High: .max, ipv6Low: .max))
        #expect(set.match(address("1.2.3.4")) == nil)
    }

    @Test func hostsOnly() {
        let set = ExitSet(["192.0.2.1", "192.0.2.3", "2001:db8::1"].map(prefix))
        #expect(set.contains(ipv4: 0xC000_0201))
        #expect(!set.contains(ipv4: 0xC000_0202))
        #expect(set.contains(ipv4: 0xC000_0203))
        #expect(set.contains(ipv6High: 0x2001_0DB8_0000_0000, ipv6Low: 1))
        #expect(!set.contains(ipv6High: 0x2001_0DB8_0000_0000, ipv6Low: 2))
        #expect(set.contains(address("::ffff:192.0.2.1")))
        #expect(!set.contains(address("192.0.2.2")))
    }

    /// The empty-slot sentinels: `0.0.0.0` (IPv4 hosts), `::` (IPv6 hosts and the masked key of
    /// `::/n`), and a subnet /24 of `255.255.255.0` (the subnet table's sentinel is above any /24).
    @Test func sentinelValues() {
        let without = ExitSet(["1.1.1.1", "::1"].map(prefix))
        #expect(!without.contains(ipv4: 0))
        #expect(!without.contains(ipv6High: 0, ipv6Low: 0))

        let with = ExitSet(["0.0.0.0", "255.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"].map(prefix))
        #expect(with.contains(ipv4: 0))
        #expect(with.contains(ipv4: .max))
        #expect(!with.contains(ipv4: 1))
        #expect(!with.contains(ipv4: .max - 1))
        #expect(with.contains(ipv6High: 0, ipv6Low: 0))
        #expect(with.contains(ipv6High: .max, ipv6Low: .max))
        #expect(!with.contains(ipv6High: 0, ipv6Low: 1))
        #expect(!with.contains(ipv6High: .max, ipv6Low: .max - 1))

        let edges = ExitSet(
            ["255.255.255.128/25", "0.0.0.0/31", "::/127", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"].map(prefix)
        )
        #expect(edges.contains(ipv4: .max))
        #expect(edges.contains(ipv4: 0xFFFF_FF80))
        #expect(!edges.contains(ipv4: 0xFFFF_FF7F))
        #expect(edges.contains(ipv4: 0))
        #expect(edges.contains(ipv4: 1))
        #expect(!edges.contains(ipv4: 2))
        #expect(edges.contains(ipv6High: 0, ipv6Low: 0))
        #expect(edges.contains(ipv6High: 0, ipv6Low: 1))
        #expect(!edges.contains(ipv6High: 0, ipv6Low: 2))
        #expect(edges.contains(ipv6High: .max, ipv6Low: .max))
        #expect(edges.contains(ipv6High: .max, ipv6Low: .max - 1))
        #expect(!edges.contains(ipv6High: .max, ipv6Low: .max - 2))
    }

    @Test func zeroLengthPrefixes() {
        let v4 = ExitSet([prefix("0.0.0.0/0")])
        #expect(v4.contains(ipv4: 0))
        #expect(v4.contains(ipv4: 0x8000_0000))
        #expect(v4.contains(ipv4: .max))
        #expect(!v4.contains(ipv6High: 0, ipv6Low: 0))
        let v6 = ExitSet([prefix("::/0")])
        #expect(v6.contains(ipv6High: 0, ipv6Low: 0))
        #expect(v6.contains(ipv6High: .max, ipv6Low: .max))
        #expect(v6.contains(ipv6High: 0x2001_0DB8_0000_0000, ipv6Low: 5))
        #expect(!v6.contains(ipv4: 0))
    }

    @Test func ipv4PrefixLengths() {
        let set = ExitSet(
            ["10.0.0.0/8", "192.0.2.0/24", "198.51.100.128/25", "203.0.113.6/31", "203.0.113.64/26"].map(prefix)
        )
        #expect(set.contains(address("10.1.2.3")))
        #expect(!set.contains(address("11.0.0.0")))
        #expect(!set.contains(address("9.255.255.255")))
        #expect(set.contains(address("192.0.2.0")))
        #expect(set.contains(address("192.0.2.255")))
        #expect(!set.contains(address("192.0.3.0")))
        #expect(!set.contains(address("198.51.100.127")))
        #expect(set.contains(address("198.51.100.128")))
        #expect(set.contains(address("198.51.100.255")))
        #expect(!set.contains(address("203.0.113.5")))
        #expect(set.contains(address("203.0.113.6")))
        #expect(set.contains(address("203.0.113.7")))
        #expect(!set.contains(address("203.0.113.8")))
        #expect(set.contains(address("203.0.113.64")))
        #expect(set.contains(address("203.0.113.127")))
        #expect(!set.contains(address("203.0.113.128")))
    }

    @Test func ipv6PrefixLengths() {
        let set = ExitSet(
            ["2001:db8::/32", "2a0b:f4c2::/48", "2a0b:f4c2:2::/64", "fe80::/10", "2620:7:6001::ffff:c759:e653/127"].map(
                prefix
            )
        )
        #expect(set.contains(address("2001:db8:ffff:ffff::1")))
        #expect(!set.contains(address("2001:db9::")))
        #expect(set.contains(address("2a0b:f4c2:0:1::33")))
        #expect(set.contains(address("2a0b:f4c2:2::33")))
        #expect(!set.contains(address("2a0b:f4c3::")))
        #expect(set.contains(address("febf:ffff::")))
        #expect(!set.contains(address("fec0::")))
        #expect(set.contains(address("2620:7:6001::ffff:c759:e652")))
        #expect(set.contains(address("2620:7:6001::ffff:c759:e653")))
        #expect(!set.contains(address("2620:7:6001::ffff:c759:e654")))
    }

    @Test func matchFindsTheMostSpecificEntry() {
        let set = ExitSet(
            ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.3", "2001:db8::/32", "2001:db8::/48", "2001:db8::1"].map(prefix)
        )
        #expect(set.match(address("10.1.2.3")) == prefix("10.1.2.3"))
        #expect(set.match(address("10.1.2.4")) == prefix("10.1.0.0/16"))
        #expect(set.match(address("10.2.0.0")) == prefix("10.0.0.0/8"))
        #expect(set.match(address("11.0.0.0")) == nil)
        #expect(set.match(.v6(IPv6Address("::ffff:10.1.2.3")!)) == prefix("10.1.2.3"))
        #expect(set.match(address("2001:db8::1")) == prefix("2001:db8::1"))
        #expect(set.match(address("2001:db8::2")) == prefix("2001:db8::/48"))
        #expect(set.match(address("2001:db8:1::")) == prefix("2001:db8::/32"))
        #expect(set.match(address("2001:db9::")) == nil)
    }

    @Test func isSendableAcrossTasks() async {
        let set = ExitSet((0..<1000).map { IPPrefix(.v4(IPv4Address(UInt32($0) * 7919)), length: 32) })
        let found = await withTaskGroup(of: Int.self) { group in
            for task in 0..<4 {
                group.addTask {
                    (0..<1000).reduce(0) { $0 + (set.contains(ipv4: UInt32($1) * 7919 + UInt32(task % 2)) ? 1 : 0) }
                }
            }
            return await group.reduce(0, +)
        }
        // Tasks 0 and 2 find all 1000, tasks 1 and 3 find those k*7919+1 that are multiples of 7919: none.
        #expect(found == 2000)
    }

    @Test func manyHostsOnEveryLoadFactor() {
        // Sizes around powers of two exercise every table capacity boundary.
        for count in [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 1000, 1024, 1025] {
            let addresses = (0..<count).map { UInt32($0) &* 0x0100_0001 &+ 0x0A00_0000 }
            let set = ExitSet(addresses.map { IPPrefix(.v4(IPv4Address($0)), length: 32) })
            #expect(set.count == count)
            for value in addresses {
                #expect(set.contains(ipv4: value))
                #expect(!set.contains(ipv4: value &+ 0x0080_0000))
            }
        }
    }
}
