import ExitSet
import Foundation
import Rules
import Synchronization

extension DropCache {
    /// Deletes every entry that no longer holds under the sets just published: an address no
    /// longer listed, or allowlisted. First mirrors the allowlist into the kernel (the cache
    /// rules skip packets whose peer is in it). Called by the engine inside the publish, after
    /// the grace period: every verdict judged with the old sets was sent, so every entry they
    /// made is in the set when it is listed here, and the writer throws away what was judged
    /// with the old sets (`CacheWriter.retire`).
    ///
    /// The accept sets lose every entry whose address is now listed. That covers the
    /// allowlist too: an allowlisted address is never put in the accept cache (only `.accept`
    /// decisions are), and one that leaves the allowlist was cached only if unlisted, which
    /// the listed test checks.
    public func prune(exits: ExitSet, allowlist: ExitSet) {
        var deleted: UInt64 = 0
        var errors: UInt64 = 0
        var acceptDeleted: UInt64 = 0
        for family in acceptFamilies {
            let name = setName(.accept, family)
            do {
                let members = try sets.members(name)
                state.withLock { $0.accountAccepts(family, members, complete: false) }
                let stale = members.map(\.address).filter { exits.contains($0) }
                try sets.delete(stale, from: name)
                acceptDeleted += UInt64(stale.count)
            } catch {
                errors += 1
                log("accept cache: pruning \(name): \(error)")
            }
        }
        state.withLock { $0.figures.accept?.entriesDeleted += acceptDeleted }
        let mirroredAllowlist = families.isEmpty ? true : mirror(allowlist)
        if !mirroredAllowlist { errors += 1 }
        for family in families {
            let name = setName(.drop, family)
            do {
                let members = try sets.members(name)
                // Count their hits before they go.
                state.withLock { $0.accountDrops(family, members, complete: false) }
                let stale = members.map(\.address).filter {
                    !mirroredAllowlist || !exits.contains($0) || allowlist.contains($0)
                }
                try sets.delete(stale, from: name)
                deleted += UInt64(stale.count)
            } catch {
                errors += 1
                log("drop cache: pruning \(name): \(error)")
            }
        }
        state.withLock {
            $0.figures.prunes += 1
            $0.figures.entriesDeleted += deleted
            $0.figures.errors += errors
        }
    }
}
