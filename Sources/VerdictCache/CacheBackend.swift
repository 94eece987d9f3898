import KernelSets
import Rules

/// Which kernel sets hold the verdict caches: the ipsets of `rules install` (iptables rules
/// with `-m set`), or the nf_tables sets of the `rules show --nft` ruleset (`table inet
/// exitblock`). The daemon picks one at start (`CacheProbe`).
public enum CacheBackend: String, Sendable, Equatable {
    case ipset
    case nftables

    /// The three sets a family has.
    enum Kind: Sendable {
        /// The drop cache.
        case drop
        /// The drop cache's allowlist mirror.
        case allow
        /// The accept cache.
        case accept
    }

    /// The name of `kind`'s set of `family`.
    func name(_ kind: Kind, _ family: RuleSettings.Family) -> String {
        switch (self, kind) {
        case (.ipset, .drop): RuleSet.dropCacheSet(family)
        case (.ipset, .allow): RuleSet.dropCacheAllowSet(family)
        case (.ipset, .accept): RuleSet.acceptCacheSet(family)
        case (.nftables, .drop): NftablesSets.dropSet(family)
        case (.nftables, .allow): NftablesSets.allowSet(family)
        case (.nftables, .accept): NftablesSets.acceptSet(family)
        }
    }

    /// The answers to an add that mean the set is full: IPSET_ERR_HASH_FULL for an ipset at
    /// maxelem; ENFILE (or ENOSPC) for an nf_tables set at its size.
    var fullCodes: Set<Int32> {
        switch self {
        case .ipset: [IpsetClient.hashFullCode]
        case .nftables: NftSetClient.fullCodes
        }
    }

    /// What puts a missing set back, for the log.
    var installHint: String {
        switch self {
        case .ipset: "`exitblock rules install` puts it back"
        case .nftables: "`nft -f` the `exitblock rules show --nft` ruleset puts it back"
        }
    }
}
