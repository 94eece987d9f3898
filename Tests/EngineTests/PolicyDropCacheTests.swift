import ExitSet
import NetfilterQueue
import Rules
import Testing

@testable import Engine

/// The policy's side of the verdict caches: which judgements hand their address to a cache,
/// and which address the cache keys on. The verdict itself never changes.
@Suite struct PolicyDropCacheTests {
    let sets = PolicySets(exits: ExitSet(["198.51.100.7", "2001:db8::7"].compactMap(IPPrefix.init)))
    let listed: UInt32 = 0xc633_6407  // 198.51.100.7

    @Test func listedPacketsAreDroppedPlainAndCachedByTheAddressThatMatched() {
        var policy = Policy(match: .both)
        policy.dropCacheIPv4 = true
        func judge(_ header: NetworkHeader) -> Judgement { policy.judge(packet(header), in: sets) }
        let fromListed = NetworkHeader.ipv4(source: listed, destination: 2)
        let toListed = NetworkHeader.ipv4(source: 2, destination: listed)
        #expect(judge(fromListed).cached && judge(fromListed).verdict == .drop)
        #expect(judge(toListed).cached && judge(toListed).verdict == .drop)
        #expect(policy.cacheKeyIsSource(judge(fromListed).decision))
        #expect(!policy.cacheKeyIsSource(judge(toListed).decision))
        // IPv6 is not cached here; clean packets are not cached by the drop cache.
        let fromListed6 = NetworkHeader.ipv6(
            source: .init(high: 0x2001_0db8_0000_0000, low: 7),
            destination: .init(high: 0, low: 2)
        )
        #expect(judge(fromListed6).decision == .listedSource && !judge(fromListed6).cached)
        #expect(judge(fromListed6).verdict == .drop)
        #expect(!judge(.ipv4(source: 1, destination: 2)).cached)
        policy.dryRun = true
        #expect(!judge(fromListed).cached && judge(fromListed).verdict == .accept)
        policy.dryRun = false
        policy.exitPolicy = true
        #expect(!judge(fromListed).cached)
    }

    @Test func onlyAcceptsBecauseNotListedGoIntoTheAcceptCache() {
        var policy = Policy(match: .source)
        policy.acceptCacheIPv4 = true
        let withAllowlist = PolicySets(
            exits: sets.exits,
            allowlist: ExitSet(["192.0.2.9"].compactMap(IPPrefix.init))
        )
        func judge(_ header: NetworkHeader, in sets: PolicySets? = nil) -> Judgement {
            policy.judge(packet(header), in: sets ?? self.sets)
        }
        let clean = NetworkHeader.ipv4(source: 1, destination: 2)
        #expect(judge(clean).cached && judge(clean).verdict == .accept)
        #expect(policy.cacheKeyIsSource(judge(clean).decision))
        // Accepted because the other address is allowlisted: the judged one is listed, no cache.
        let allowlisted = NetworkHeader.ipv4(source: listed, destination: 0xc000_0209)
        #expect(judge(allowlisted, in: withAllowlist).decision == .allowlisted)
        #expect(!judge(allowlisted, in: withAllowlist).cached)
        #expect(!judge(.ipv6(source: .init(high: 0, low: 1), destination: .init(high: 0, low: 2))).cached)
        policy.match = .destination
        #expect(!policy.cacheKeyIsSource(judge(clean).decision))
        policy.match = .both
        #expect(!judge(clean).cached)
        policy.match = .source
        policy.dryRun = true
        #expect(!judge(clean).cached)
        policy.dryRun = false
        policy.relayPorts = true
        #expect(!judge(clean).cached)
    }
}
