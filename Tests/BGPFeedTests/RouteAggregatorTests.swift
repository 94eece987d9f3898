import ExitSet
import Testing

@testable import BGPFeed
import SeededRandom

private func prefixes(_ texts: [String]) -> [IPPrefix] { texts.map { IPPrefix($0)! } }
private func texts(_ prefixes: [IPPrefix]) -> [String] { prefixes.map(\.cidr) }

@Suite("RouteAggregator")
struct RouteAggregatorTests {
    @Test func siblingsMergeAndNestedPrefixesVanish() {
        let routes = RouteAggregator.routes(
            for: prefixes(["192.0.2.0/32", "192.0.2.1/32", "192.0.2.2/31", "10.0.0.0/8", "10.1.2.3", "2001:db8::/127"]),
            excluding: []
        )
        #expect(texts(routes) == ["10.0.0.0/8", "192.0.2.0/30", "2001:db8::/127"])
    }

    @Test func allowlistedAddressesAreCutOut() {
        let routes = RouteAggregator.routes(
            for: prefixes(["192.0.2.0/30", "2001:db8::/126"]),
            excluding: prefixes(["192.0.2.1", "2001:db8::3"])
        )
        #expect(texts(routes) == ["192.0.2.0/32", "192.0.2.2/31", "2001:db8::/127", "2001:db8::2/128"])
    }

    @Test func withoutAggregationListedPrefixesStay() {
        let routes = RouteAggregator.routes(
            for: prefixes(["192.0.2.0/32", "192.0.2.1/32", "192.0.2.1/32"]),
            excluding: [],
            aggregate: false
        )
        #expect(texts(routes) == ["192.0.2.0/32", "192.0.2.1/32"])
        let cut = RouteAggregator.routes(
            for: prefixes(["192.0.2.0/30"]),
            excluding: prefixes(["192.0.2.3"]),
            aggregate: false
        )
        #expect(texts(cut) == ["192.0.2.0/31", "192.0.2.2/32"])
    }

    @Test func edgesOfTheAddressSpace() {
        let all4 = RouteAggregator.routes(for: prefixes(["0.0.0.0/1", "128.0.0.0/1"]), excluding: [])
        #expect(texts(all4) == ["0.0.0.0/0"])
        let top = RouteAggregator.routes(
            for: prefixes(["255.255.255.254/31", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"]),
            excluding: prefixes(["255.255.255.254"])
        )
        #expect(texts(top) == ["255.255.255.255/32", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"])
        let allButZero = RouteAggregator.routes(for: prefixes(["0.0.0.0/30"]), excluding: prefixes(["0.0.0.0"]))
        #expect(texts(allButZero) == ["0.0.0.1/32", "0.0.0.2/31"])
    }

    @Test func emptyInputGivesNoRoute() {
        #expect(RouteAggregator.routes(for: [], excluding: prefixes(["10.0.0.0/8"])).isEmpty)
        #expect(RouteAggregator.routes(for: prefixes(["10.0.0.1"]), excluding: prefixes(["10.0.0.0/8"])).isEmpty)
    }
}

/// The aggregation against a naive model: an address is covered by the routes exactly when
/// some listed prefix holds it and no allowlisted prefix does, checked on random addresses and
/// on every boundary (first, last, one before, one after) of every input prefix.
@Suite("RouteAggregator property tests")
struct RouteAggregatorPropertyTests {
    /// Addresses crowd into a small window so that prefixes touch, nest and overlap.
    static func randomPrefix(_ random: inout SeededGenerator, v6: Bool) -> IPPrefix {
        if v6 {
            let low = UInt64.random(in: 0..<256, using: &random)
            let length = UInt8.random(in: 118...128, using: &random)
            return IPPrefix(.v6(IPv6Address(high: 0x2001_0db8_0000_0000, low: low)), length: length)
        }
        let value = 0xC000_0200 | UInt32.random(in: 0..<256, using: &random)
        return IPPrefix(.v4(IPv4Address(value)), length: UInt8.random(in: 22...32, using: &random))
    }

    static func probes(_ prefix: IPPrefix) -> [IPAddress] {
        switch prefix.address {
        case .v4(let address):
            let size = UInt64(1) << (32 - UInt64(prefix.length))
            let first = UInt64(address.value)
            let candidates = [first, first + size - 1, first &- 1, first + size]
            return candidates.filter { $0 <= UInt64(UInt32.max) }.map { .v4(IPv4Address(UInt32($0))) }
        case .v6(let address):
            let size = UInt64(1) << (128 - UInt64(prefix.length))
            let candidates = [address.low, address.low + size - 1, address.low &- 1, address.low + size]
            return candidates.map { .v6(IPv6Address(high: address.high, low: $0)) }
        }
    }

    @Test(arguments: 0..<200)
    func coverageIsUnchanged(seed: Int) {
        var random = SeededGenerator(seed: UInt64(seed))
        let listed = (0..<Int.random(in: 0...40, using: &random)).map { _ in
            Self.randomPrefix(&random, v6: Bool.random(using: &random))
        }
        let allowed = (0..<Int.random(in: 0...4, using: &random)).map { _ in
            Self.randomPrefix(&random, v6: Bool.random(using: &random))
        }
        for aggregate in [true, false] {
            let routes = RouteAggregator.routes(for: listed, excluding: allowed, aggregate: aggregate)
            var probes = (listed + allowed + routes).flatMap(Self.probes)
            for _ in 0..<64 { probes += Self.probes(Self.randomPrefix(&random, v6: Bool.random(using: &random))) }
            for probe in probes {
                let expected = listed.contains { $0.contains(probe) } && !allowed.contains { $0.contains(probe) }
                let covered = routes.filter { $0.contains(probe) }
                #expect((covered.count > 0) == expected, "\(probe): listed \(listed), allowed \(allowed)")
                if aggregate { #expect(covered.count <= 1, "\(probe) covered twice by \(covered)") }
            }
            #expect(routes == routes.sorted())
            #expect(Set(routes).count == routes.count)
            guard aggregate else { continue }
            // Minimal: no two routes are the halves of one shorter prefix.
            let set = Set(routes)
            for route in routes where route.length > 0 {
                let parent = IPPrefix(route.address, length: route.length - 1)
                let halves = set.filter { $0.length == route.length && parent.contains($0.address) }
                #expect(halves.count == 1, "\(route) and its sibling should be \(parent)")
            }
            if allowed.isEmpty { #expect(routes.count <= Set(listed).count) }
        }
    }
}
