import Engine
import ExitSet
import Rules
import Testing

@testable import Stats

/// The drop cache's kernel figures in the metrics snapshot.
@Suite struct DropCacheMetricsTests {
    @Test func kernelHitsJoinTheTopListedTable() {
        let top = [TopListedTable.Entry(address: "198.51.100.10", packets: 1)]
        let members = [
            DropCacheSets.Member(address: IPAddress("198.51.100.10")!, timeout: 50, packets: 9, bytes: 0),
            DropCacheSets.Member(address: IPAddress("198.51.100.11")!, timeout: 50, packets: 3, bytes: 0),
        ]
        #expect(
            MetricsSnapshot.merging(top, kernelHits: members, limit: 10) == [
                .init(address: "198.51.100.10", packets: 10), .init(address: "198.51.100.11", packets: 3),
            ]
        )
    }
}
