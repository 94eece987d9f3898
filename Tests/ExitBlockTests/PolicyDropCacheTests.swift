import ExitSet
import NetfilterQueue
import Rules
import Testing

@testable import ExitBlock

/// The policy's side of the drop cache: which packets leave with which cache mark.
@Suite struct PolicyDropCacheTests {
    @Test func listedPacketsLeaveWithTheCacheMarkOfTheAddressThatMatched() {
        var policy = Policy(match: .both)
        policy.dropCacheIPv4 = true
        let sets = PolicySets(exits: ExitSet(["198.51.100.7", "2001:db8::7"].compactMap(IPPrefix.init)))
        let listed: UInt32 = 0xc633_6407  // 198.51.100.7
        let fromListed = NetworkHeader.ipv4(source: listed, destination: 2)
        let toListed = NetworkHeader.ipv4(source: 2, destination: listed)
        func judge(_ header: NetworkHeader, mark: UInt32 = 0) -> Judgement {
            policy.judge(packet(header, mark: mark), in: sets)
        }
        #expect(judge(fromListed).cached)
        #expect(judge(fromListed).verdict == .acceptMarked(mark: PacketMark.dropCacheSource))
        #expect(judge(fromListed).markedForDrop)
        #expect(judge(toListed, mark: 7).verdict == .acceptMarked(mark: PacketMark.dropCacheDestination))
        // Back with the cache mark: no filter rule took it, so it is dropped.
        #expect(judge(fromListed, mark: PacketMark.dropCacheSource).verdict == .drop)
        // IPv6 is not cached here; clean packets never are.
        let fromListed6 = NetworkHeader.ipv6(
            source: .init(high: 0x2001_0db8_0000_0000, low: 7),
            destination: .init(high: 0, low: 2)
        )
        #expect(judge(fromListed6).decision == .listedSource && !judge(fromListed6).cached)
        #expect(judge(fromListed6).verdict == .drop)
        #expect(!judge(.ipv4(source: 1, destination: 2)).cached)
        policy.dryRun = true
        #expect(!judge(fromListed).cached && judge(fromListed).verdict == .accept)
    }
}
