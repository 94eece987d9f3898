import ExitSet
import Foundation
import Rules
import Synchronization

extension DropCache {
    /// Reads the sets now (one netlink dump per set).
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
        // kernel's accept counts) are read at most every `acceptMembersEvery` refreshes, and
        // no more often than keeps the reads under 1/`acceptReadShare` of the poller's time (a
        // full nf_tables set takes seconds to dump); their size (an ipset's header) every time.
        let readMembers = state.withLock { state -> Bool in
            state.refreshes &+= 1
            return state.refreshes >= state.nextAcceptRead
        }
        let started = DispatchTime.now().uptimeNanoseconds
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
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        state.withLock {
            $0.figures.members = all
            if readMembers {
                let spacing = max(
                    DropCache.acceptMembersEvery,
                    UInt64((seconds * DropCache.acceptReadShare).rounded(.up))
                )
                $0.nextAcceptRead = $0.refreshes &+ spacing
            }
        }
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
