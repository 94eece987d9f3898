import Engine
import LinuxSystem
import VerdictCache

/// The verdict caches `run` asks for, decided from its options: the caches wanted with their
/// timeouts and size, or off with the line that says why (dry-run, exit policies or relay mode).
/// The daemon attaches them once the privileges are lowered (`attach(to:)`).
public enum VerdictCacheRequest: Sendable, Equatable {
    /// Off; the message (when there is one) is said at start.
    case off(String?)
    case wanted(DropCache.Wanted)

    /// Looks for the verdict caches' rules and sets and attaches them to `engine` for the
    /// families that have them, and starts the counter poller; nil (every packet judged as
    /// usual) when off, or when neither `rules install` nor the `rules show --nft` ruleset put
    /// them in place. Says on the output what is on.
    func attach(to engine: Engine) -> DropCache? {
        let wanted: DropCache.Wanted
        switch self {
        case .off(let message):
            if let message { Output.message(message) }
            return nil
        case .wanted(let value):
            wanted = value
        }
        let (cache, reason) = DropCache.probe(wanted) { Output.message($0) }
        guard let cache else {
            let hint = "`exitblock rules install` (or the `rules show --nft` ruleset) puts it in place"
            Output.message("drop cache: off (\(reason)); \(hint)")
            return nil
        }
        engine.attach(cache)
        Output.message(Self.summary(of: cache, reason: reason))
        cache.startPolling()
        return cache
    }

    /// "drop cache: on for ipv4 and ipv6; accept cache: off; in the ipsets (REASON)"
    private static func summary(of cache: DropCache, reason: String) -> String {
        let drop = cache.families.map(\.rawValue).joined(separator: " and ")
        var line = cache.families.isEmpty ? "drop cache: off" : "drop cache: on for \(drop)"
        let accept = cache.acceptFamilies.map(\.rawValue).joined(separator: " and ")
        line += cache.acceptFamilies.isEmpty ? "; accept cache: off" : "; accept cache: on for \(accept)"
        line += cache.backend == .ipset ? "; in the ipsets" : "; in the nftables sets of table inet exitblock"
        if !reason.isEmpty { line += " (\(reason))" }
        return line
    }
}
