import ExitSet
import Foundation
import Rules
import Synchronization

extension DropCache {
    /// Brings the kernel's allowlist mirrors up to `allowlist` (swapped in whole, so the
    /// kernel never sees a half-filled one) unless they already hold it. False when it
    /// failed; then every cache entry must go (a cached address could be dropped on its way
    /// to a peer allowlisted since).
    func mirror(_ allowlist: ExitSet) -> Bool {
        guard mirrored.withLock({ $0 != allowlist.entries }) else { return true }
        var ok = true
        for family in families {
            let name = setName(.allow, family)
            let entries = allowlist.entries.filter { prefix in
                switch prefix.address {
                case .v4: family == .ipv4
                case .v6: family == .ipv6
                }
            }
            do {
                try sets.mirror(entries, into: name, family: family)
            } catch {
                ok = false
                log("drop cache: mirroring the allowlist into \(name): \(error); emptying the cache")
            }
        }
        if ok { mirrored.withLock { $0 = allowlist.entries } }
        return ok
    }
}
