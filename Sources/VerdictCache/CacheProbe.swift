import KernelSets
import Netlink
import Rules

/// The start's look at the kernel, all over netlink: which families of each cache have their
/// sets in place and named by a rule, and with what timeout the writer's adds go. A set no
/// rule names is not used (adding to it would be harmless, but the packets would still all
/// be queued). A timeout or size given that differs from an ipset's re-creates the set with
/// it (its entries are lost, which only costs judging them again).
enum CacheProbe {
    /// What a probe found in place: the families of each cache and the timeouts their adds get.
    struct Found {
        var families: [RuleSettings.Family] = []
        var acceptFamilies: [RuleSettings.Family] = []
        var dropTimeout = CacheDefaults.timeout
        var acceptTimeout = CacheDefaults.timeout
        var missing: [String] = []
        /// The ipsets found with counters (whose adds start their entries' counters at 0).
        var countedSets: Set<String> = []

        var isEmpty: Bool { families.isEmpty && acceptFamilies.isEmpty }
    }

    /// The ipsets of `rules install`. The kernel counts the rules that name a set (its
    /// header's references).
    static func ipsets(_ wanted: DropCache.Wanted, client: IpsetClient, log: (String) -> Void) -> Found {
        var found = Found()
        found.dropTimeout = wanted.dropTimeout ?? CacheDefaults.timeout
        found.acceptTimeout = wanted.acceptTimeout ?? CacheDefaults.timeout
        for family in RuleSettings.Family.allCases where wanted.drop {
            let name = RuleSet.dropCacheSet(family)
            let allow = RuleSet.dropCacheAllowSet(family)
            guard let header = try? client.header(name), let allowHeader = try? client.header(allow) else {
                found.missing.append("\(family): no set \(name) or \(allow)")
                continue
            }
            guard (header.references ?? 0) > 0, (allowHeader.references ?? 0) > 0 else {
                found.missing.append("\(family): no rule uses \(name)")
                continue
            }
            if let timeout = wanted.dropTimeout {
                let spec = IpsetSpec(type: .hashIP, ipv6: family == .ipv6, timeout: timeout, counters: true)
                do {
                    if try ensure(name, spec, header: header, client: client) {
                        log("drop cache: \(name) re-created with timeout \(timeout) s")
                    }
                } catch {
                    found.missing.append("\(family): \(error)")
                    continue
                }
            } else if let timeout = header.timeout {
                found.dropTimeout = timeout
            }
            // A set re-created above has counters (the spec's); one kept has its own.
            if header.counters || wanted.dropTimeout != nil { found.countedSets.insert(name) }
            found.families.append(family)
        }
        for family in RuleSettings.Family.allCases where wanted.accept {
            if let timeout = acceptIpset(family, wanted, client: client, found: &found, log: log) {
                found.acceptTimeout = timeout
                found.acceptFamilies.append(family)
            }
        }
        return found
    }

    /// The accept ipset of `family`: the timeout its adds get, or nil (with the reason in
    /// `found.missing`) when it is not to be used.
    private static func acceptIpset(
        _ family: RuleSettings.Family,
        _ wanted: DropCache.Wanted,
        client: IpsetClient,
        found: inout Found,
        log: (String) -> Void
    ) -> UInt32? {
        let name = RuleSet.acceptCacheSet(family)
        guard let header = try? client.header(name) else {
            found.missing.append("\(family): no set \(name)")
            return nil
        }
        guard (header.references ?? 0) > 0 else {
            found.missing.append("\(family): no rule uses \(name)")
            return nil
        }
        guard wanted.acceptTimeout != nil || wanted.acceptSize != nil else {
            if header.counters { found.countedSets.insert(name) }
            return header.timeout ?? found.acceptTimeout
        }
        let timeout = wanted.acceptTimeout ?? header.timeout ?? CacheDefaults.timeout
        let size = wanted.acceptSize ?? header.maxelem ?? CacheDefaults.acceptSize
        let spec = IpsetSpec(type: .hashIP, ipv6: family == .ipv6, timeout: timeout, maxelem: size, counters: true)
        do {
            if try ensure(name, spec, header: header, client: client) {
                log("accept cache: \(name) re-created with timeout \(timeout) s, size \(size)")
            }
        } catch {
            found.missing.append("\(family): \(error)")
            return nil
        }
        found.countedSets.insert(name)
        return timeout
    }

    /// Makes set `name` (whose header is `header`) have `spec`'s options: an existing set with
    /// other options is replaced by a swap with a new one (rules naming it keep working; its
    /// entries are dropped). False when it was right already.
    static func ensure(_ name: String, _ spec: IpsetSpec, header: IpsetHeader, client: IpsetClient) throws(NetlinkError)
        -> Bool
    {
        guard !spec.matches(header) else { return false }
        let temporary = name + "-new"
        if try client.header(temporary) != nil { try client.destroy(temporary) }
        try client.create(temporary, spec)
        try client.swap(temporary, with: name)
        try client.destroy(temporary)
        return true
    }

    /// The nf_tables sets of `table inet exitblock` that exist and that a rule of the table
    /// names (`@drop4`). Every add carries its own timeout, so a timeout given applies without
    /// touching the set; a size given that differs from the set's is only logged (an nf_tables
    /// set's size is fixed: load the ruleset with the new size).
    static func nftables(
        _ wanted: DropCache.Wanted,
        client: NftSetClient,
        log: (String) -> Void
    ) throws(NetlinkError) -> Found {
        var found = Found()
        guard let named = try client.setsNamedByRules() else {
            found.missing.append("no table inet \(client.table)")
            return found
        }
        var dropTimeout: UInt32?
        var acceptTimeout: UInt32?
        for family in RuleSettings.Family.allCases where wanted.drop {
            let name = NftablesSets.dropSet(family)
            let allow = NftablesSets.allowSet(family)
            guard let info = try client.info(name), try client.info(allow) != nil else {
                found.missing.append("\(family): no set \(name) or \(allow) in table inet \(client.table)")
                continue
            }
            guard named.contains(name), named.contains(allow) else {
                found.missing.append("\(family): no rule uses \(name)")
                continue
            }
            dropTimeout = dropTimeout ?? info.timeout
            found.families.append(family)
        }
        for family in RuleSettings.Family.allCases where wanted.accept {
            let name = NftablesSets.acceptSet(family)
            guard let info = try client.info(name) else {
                found.missing.append("\(family): no set \(name) in table inet \(client.table)")
                continue
            }
            guard named.contains(name) else {
                found.missing.append("\(family): no rule uses \(name)")
                continue
            }
            if let size = wanted.acceptSize, info.size != size {
                log("accept cache: \(name) keeps its size \(info.size.map(String.init) ?? "(none)"), not \(size)")
            }
            acceptTimeout = acceptTimeout ?? info.timeout
            found.acceptFamilies.append(family)
        }
        found.dropTimeout = wanted.dropTimeout ?? dropTimeout ?? CacheDefaults.timeout
        found.acceptTimeout = wanted.acceptTimeout ?? acceptTimeout ?? CacheDefaults.timeout
        return found
    }
}
