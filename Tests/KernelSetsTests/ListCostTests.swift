import Foundation
import Testing

@testable import KernelSets

/// The cost of reading a full accept set's counters over netlink, measured on demand (it needs
/// root and a filled set, so it runs only when EXITBLOCK_LIST_COST names an ipset, and
/// EXITBLOCK_LIST_COST_NFT an nf_tables set of `inet exitblock`; see docs/performance.md, "Reading the verdict caches from the kernel").
@Suite struct ListCostTests {
    /// Wall and CPU (user + system) milliseconds of `body`, best of five.
    private func measure(_ body: () throws -> Int) rethrows -> (wall: Double, cpu: Double, count: Int) {
        var best = (wall: Double.infinity, cpu: Double.infinity, count: 0)
        for _ in 0..<5 {
            let startWall = DispatchTime.now().uptimeNanoseconds
            let startCPU = clock()
            let count = try body()
            let cpu = Double(clock() - startCPU) / Double(CLOCKS_PER_SEC) * 1000
            let wall = Double(DispatchTime.now().uptimeNanoseconds - startWall) / 1e6
            if wall < best.wall { best = (wall, cpu, count) }
        }
        return best
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["EXITBLOCK_LIST_COST"] != nil))
    func listingAFullIpset() throws {
        let name = ProcessInfo.processInfo.environment["EXITBLOCK_LIST_COST"]!
        let client = try IpsetClient()
        let figures = try measure { try client.list(name)?.members.count ?? 0 }
        print("ipset list \(name): \(figures.count) entries, \(figures.wall) ms wall, \(figures.cpu) ms CPU")
        let header = try measure { Int(try client.header(name)?.entries ?? 0) }
        print("ipset header \(name): \(header.count) entries, \(header.wall) ms wall, \(header.cpu) ms CPU")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["EXITBLOCK_LIST_COST_NFT"] != nil))
    func listingAFullNftSet() throws {
        let name = ProcessInfo.processInfo.environment["EXITBLOCK_LIST_COST_NFT"]!
        let client = try NftSetClient(table: "exitblock")
        let figures = try measure { try client.members(name)?.count ?? 0 }
        print("nft list \(name): \(figures.count) entries, \(figures.wall) ms wall, \(figures.cpu) ms CPU")
    }
}
