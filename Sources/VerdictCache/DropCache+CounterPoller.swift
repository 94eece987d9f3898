import ExitSet
import Foundation
import Rules
import Synchronization

extension DropCache {
    /// Reads the sets now (one `ipset list` or `nft list set` per set).
    public func refresh() {
        var all: [DropCacheSets.Member] = []
        for family in families {
            do {
                let members = try sets.members(setName(.drop, family))
                all += members
                state.withLock {
                    $0.accountDrops(family, members, complete: true)
                    $0.figures.entries[family] = members.count
                }
            } catch {
                state.withLock { $0.figures.errors += 1 }
            }
        }
        // The accept sets may hold hundreds of thousands of entries: their members (for the
        // kernel's accept counts) are read every `acceptMembersEvery` refreshes, their size
        // (one header line) every time.
        let readMembers = state.withLock { state -> Bool in
            state.refreshes &+= 1
            return state.refreshes % DropCache.acceptMembersEvery == 1
        }
        for family in acceptFamilies {
            let name = setName(.accept, family)
            do {
                if readMembers {
                    let members = try sets.members(name)
                    state.withLock {
                        $0.accountAccepts(family, members, complete: true)
                        $0.figures.accept?.entries[family] = members.count
                    }
                } else if let count = try sets.entryCount(name) {
                    state.withLock { $0.figures.accept?.entries[family] = count }
                }
            } catch {
                state.withLock { $0.figures.errors += 1 }
            }
        }
        state.withLock { $0.figures.members = all }
    }

    /// Starts the writer thread, and a thread that calls `refresh` every `interval` seconds
    /// until `stop`.
    public func startPolling(interval: Double = 1) {
        writer.start()
        let thread = Thread { [self] in
            while !stopRequested.load(ordering: .relaxed) {
                refresh()
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread.name = "exitblock-cache"
        thread.start()
    }
}
