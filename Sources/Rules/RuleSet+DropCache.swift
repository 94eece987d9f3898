import ExitSet

/// The verdict caches' part of the rules. Accept cache (packet mode, `--match source` or
/// `destination`): a set per family of the addresses the daemon lately accepted because they
/// are not listed, and a rule before each queue rule that accepts packets whose judged address
/// is in it. Drop cache: a kernel set per family (ipset `hash:ip` with a timeout and per-entry
/// counters) holding the addresses the daemon lately dropped, and a rule after the accept rule
/// that drops packets whose judged address is in it (unless their peer is allowlisted).
///
/// The accept rule comes first so that a cached clean packet, most of the traffic, costs one
/// set lookup; a cached listed packet costs the accept set's miss, then the drop set's hit and
/// the allowlist mirror's. The order changes no decision: an address is never in both sets
/// once a publish has pruned them (the publish deletes a newly listed address from the accept
/// set, and a de-listed one from the drop set, before it returns).
///
/// The daemon answers a listed packet NF_DROP (or the reject mark) as without the cache and
/// adds the address itself, from a writer thread, through ipset netlink; no rule of filter
/// takes part. An ACCEPT in mangle's EXITBLOCK chain means what the daemon's NF_ACCEPT means
/// (the jump is the hook's last mangle rule): the operator's filter rules still see the packet.
extension RuleSet {
    /// The ipset of `family`'s drop cache.
    public static func dropCacheSet(_ family: RuleSettings.Family) -> String {
        family == .ipv4 ? "exitblock-drop4" : "exitblock-drop6"
    }

    /// The ipset (`hash:net`) mirroring the daemon's allowlist for `family`: a cached address
    /// is dropped in the kernel only when its peer is not in it, as the allowlist accepts
    /// traffic *to or from* an allowlisted address. The daemon fills it at each publish.
    public static func dropCacheAllowSet(_ family: RuleSettings.Family) -> String {
        family == .ipv4 ? "exitblock-allow4" : "exitblock-allow6"
    }

    /// The ipset of `family`'s accept cache.
    public static func acceptCacheSet(_ family: RuleSettings.Family) -> String {
        family == .ipv4 ? "exitblock-accept4" : "exitblock-accept6"
    }

    /// The packet directions (`src`, `dst`) the drop cache keys on.
    var dropCacheDirections: [String] {
        switch settings.match {
        case .source: ["src"]
        case .destination: ["dst"]
        case .both: ["src", "dst"]
        }
    }

    /// Whether the accept cache's sets and rules are installed: asked for, packet mode, and
    /// one judged address (`--match both` has no exact key: a cached source would let its
    /// packets to a listed destination through).
    public var hasAcceptCache: Bool {
        settings.acceptCache && settings.mode == .packet && settings.match != .both
    }

    /// The mangle rules (without `-A EXITBLOCK`) that go before one queue rule, with its
    /// matches (`selection`): accept packets whose judged address is in the accept cache, then
    /// drop (or mark for REJECT and accept) those whose judged address is in the drop cache.
    /// None without either cache.
    func cacheRules(selection: [String], family: RuleSettings.Family) -> [String] {
        acceptCacheRules(selection: selection, family: family) + dropCacheRules(selection: selection, family: family)
    }

    /// The drop cache's mangle rules (without `-A EXITBLOCK`) with the queue rule's matches
    /// (`selection`); none without the drop cache.
    func dropCacheRules(selection: [String], family: RuleSettings.Family) -> [String] {
        guard settings.dropCache else { return [] }
        let set = RuleSet.dropCacheSet(family)
        let allow = RuleSet.dropCacheAllowSet(family)
        var rules: [String] = []
        for direction in dropCacheDirections {
            let target =
                settings.reject
                ? "-j MARK --set-xmark \(RuleSet.hex(settings.rejectMark))/\(RuleSet.hex(settings.rejectMask))"
                : "-j DROP"
            let peer = direction == "src" ? "dst" : "src"
            let lookups = "-m set --match-set \(set) \(direction) -m set ! --match-set \(allow) \(peer)"
            rules.append((selection + [lookups, target]).joined(separator: " "))
        }
        if settings.reject {
            rules.append("-m mark --mark \(PacketMark.text(settings.rejectMark, mask: settings.rejectMask)) -j ACCEPT")
        }
        return rules
    }

    /// The mangle rule (without `-A EXITBLOCK`) that accepts packets whose judged address is in
    /// the accept cache, with the queue rule's matches. None without the accept cache.
    func acceptCacheRules(selection: [String], family: RuleSettings.Family) -> [String] {
        guard hasAcceptCache else { return [] }
        let direction = settings.match == .destination ? "dst" : "src"
        return [
            (selection + ["-m set --match-set \(RuleSet.acceptCacheSet(family)) \(direction) -j ACCEPT"]).joined(
                separator: " "
            )
        ]
    }

    /// The `ipset restore` line that creates `family`'s accept cache.
    public func acceptCacheCreateLine(for family: RuleSettings.Family) -> String {
        RuleSet.acceptCacheCreateLine(family, timeout: settings.acceptCacheTimeout, size: settings.acceptCacheSize)
    }

    /// `create exitblock-accept4 hash:ip family inet timeout T maxelem N counters`.
    public static func acceptCacheCreateLine(_ family: RuleSettings.Family, timeout: UInt32, size: UInt32) -> String {
        let inet = family == .ipv4 ? "inet" : "inet6"
        return "create \(acceptCacheSet(family)) hash:ip family \(inet) timeout \(timeout) maxelem \(size) counters"
    }

    /// The `ipset restore` line that creates `family`'s set (the timeout and counters given).
    public func dropCacheCreateLine(for family: RuleSettings.Family) -> String {
        let inet = family == .ipv4 ? "inet" : "inet6"
        let timeout = settings.dropCacheTimeout
        return "create \(RuleSet.dropCacheSet(family)) hash:ip family \(inet) timeout \(timeout) counters"
    }

    /// The `ipset restore` line that creates `family`'s allowlist mirror.
    public func dropCacheAllowCreateLine(for family: RuleSettings.Family) -> String {
        "create \(RuleSet.dropCacheAllowSet(family)) hash:net family \(family == .ipv4 ? "inet" : "inet6")"
    }

    /// `0x4542`, as iptables-save prints marks.
    static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
