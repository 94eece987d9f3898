import NetfilterQueue
import Rules
import Testing

@testable import ExitBlock

/// The policy's side of the drop cache: which packets leave with which cache mark.
@Suite struct PolicyDropCacheTests {
  @Test func listedPacketsLeaveWithTheCacheMarkOfTheAddressThatMatched() {
    var policy = Policy(match: .both)
    policy.dropCacheIPv4 = true
    let header = NetworkHeader.ipv4(source: 1, destination: 2)
    #expect(policy.cachesDrop(header))
    #expect(
      !policy.cachesDrop(.ipv6(source: .init(high: 0, low: 1), destination: .init(high: 0, low: 2)))
    )
    #expect(
      policy.cachedDropVerdict(for: .listedSource, mark: 0)
        == .acceptMarked(mark: PacketMark.dropCacheSource)
    )
    #expect(
      policy.cachedDropVerdict(for: .listedDestination, mark: 7)
        == .acceptMarked(mark: PacketMark.dropCacheDestination)
    )
    #expect(policy.cachedDropVerdict(for: .listedSource, mark: PacketMark.dropCacheSource) == .drop)
    policy.dryRun = true
    #expect(!policy.cachesDrop(header))
  }
}
