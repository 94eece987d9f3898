import ExitSet
import ListSources
import Testing

@Suite struct ListGuardTests {
    static func prefixes(_ texts: [String]) -> [IPPrefix] {
        texts.map { IPPrefix($0)! }
    }

    static func hosts(_ count: Int) -> [IPPrefix] {
        (0..<count).map { IPPrefix("198.51.\($0 / 256).\($0 % 256)")! }
    }

    @Test func acceptsAnOrdinaryList() {
        let guards = ListGuard()
        #expect(
            guards.check(Self.prefixes(["192.0.2.1", "2001:db8::1", "198.51.100.0/24"]), previousCount: nil) == .accept
        )
        #expect(guards.check(Self.hosts(100), previousCount: 100) == .accept)
        #expect(guards.check(Self.hosts(200), previousCount: 100) == .accept)
    }

    @Test func refusesAnEmptyVersion() {
        #expect(ListGuard().check([IPPrefix](), previousCount: 10) == .refuse(.empty))
        #expect(ListGuard(acceptRisky: true).check([IPPrefix](), previousCount: nil) == .refuse(.empty))
    }

    @Test func shrinkLimitIsAFractionOfThePreviousVersion() {
        let guards = ListGuard(maximumShrink: 0.5)
        #expect(guards.check(Self.hosts(50), previousCount: 100) == .accept)
        #expect(
            guards.check(Self.hosts(49), previousCount: 100)
                == .refuse(.shrank(previous: 100, now: 49, maximumShrink: 0.5))
        )
        #expect(guards.check(Self.hosts(10), previousCount: 100).accepted == false)
        // No previous version: nothing to shrink from.
        #expect(guards.check(Self.hosts(1), previousCount: nil) == .accept)
        let strict = ListGuard(maximumShrink: 0.1)
        #expect(strict.check(Self.hosts(89), previousCount: 100).accepted == false)
        #expect(strict.check(Self.hosts(90), previousCount: 100) == .accept)
        let refusal = ListGuard.Refusal.shrank(previous: 100, now: 10, maximumShrink: 0.5)
        #expect(refusal.reason == "shrank")
        #expect(refusal.description.contains("lost 90%"))
    }

    @Test func refusesPrefixesBroaderThanTheLimits() {
        let guards = ListGuard()
        #expect(guards.check(Self.prefixes(["10.0.0.0/16", "2001:db8::/32"]), previousCount: nil) == .accept)
        let v4 = IPPrefix("10.0.0.0/15")!
        #expect(
            guards.check([IPPrefix("192.0.2.1")!, v4], previousCount: nil) == .refuse(.prefixTooBroad(v4, shortest: 16))
        )
        let v6 = IPPrefix("2001:db8::/31")!
        #expect(guards.check([v6], previousCount: nil) == .refuse(.prefixTooBroad(v6, shortest: 32)))
        let custom = ListGuard(shortestIPv4Prefix: 24, shortestIPv6Prefix: 48)
        #expect(custom.check(Self.prefixes(["198.51.100.0/23"]), previousCount: nil).accepted == false)
        #expect(custom.check(Self.prefixes(["2001:db8:1::/47"]), previousCount: nil).accepted == false)
        #expect(ListGuard.Refusal.prefixTooBroad(v4, shortest: 16).reason == "prefix_too_broad")
    }

    @Test func overrideLetsShrinkAndBroadPrefixesThroughButNamesThem() {
        let guards = ListGuard(acceptRisky: true)
        let broad = IPPrefix("10.0.0.0/8")!
        let verdict = guards.check([broad], previousCount: 100)
        #expect(
            verdict
                == .acceptRisky([
                    .prefixTooBroad(broad, shortest: 16), .shrank(previous: 100, now: 1, maximumShrink: 0.5),
                ])
        )
        #expect(verdict.accepted)
    }

    @Test func aZeroPrefixNeverPassesEvenWithTheOverride() {
        for text in ["0.0.0.0/0", "::/0"] {
            let zero = IPPrefix(text)!
            for acceptRisky in [false, true] {
                let guards = ListGuard(shortestIPv4Prefix: 1, shortestIPv6Prefix: 1, acceptRisky: acceptRisky)
                #expect(guards.check([IPPrefix("192.0.2.1")!, zero], previousCount: nil) == .refuse(.zeroPrefix(zero)))
            }
        }
        #expect(ListGuard.Refusal.zeroPrefix(IPPrefix("::/0")!).reason == "zero_prefix")
    }
}
