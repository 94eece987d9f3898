import ExitSet

/// The drop cache's part of the rules: a kernel set per family (ipset `hash:ip` with a
/// timeout and per-entry counters) holding the addresses the daemon lately dropped, a rule
/// before each queue rule that drops packets whose judged address is in it, and filter rules
/// that add the address of every packet the daemon answered with the drop-cache mark.
///
/// The daemon answers a listed packet NF_ACCEPT with the mark `PacketMark.dropCacheSource`
/// (or `dropCacheDestinationMark`), so it goes on to filter, where exitblock's chain is the
/// first rule of the hook: `SET --add-set … --exist` puts the address in (or renews its
/// timeout), then the packet is dropped (or marked for the REJECT rules after). Its next
/// packets are dropped in mangle, before the queue rule, and counted there.
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

    /// The packet directions (`src`, `dst`) the cache keys on, with the mark that adds each.
    var dropCacheDirections: [(direction: String, mark: UInt32)] {
        switch settings.match {
        case .source: [("src", PacketMark.dropCacheSource)]
        case .destination: [("dst", PacketMark.dropCacheDestination)]
        case .both: [("src", PacketMark.dropCacheSource), ("dst", PacketMark.dropCacheDestination)]
        }
    }

    /// The mangle rules (without `-A EXITBLOCK`) that go before one queue rule, with its
    /// matches (`selection`): drop (or mark for REJECT and accept) packets whose judged
    /// address is cached. None without the drop cache.
    func dropCacheRules(selection: [String], family: RuleSettings.Family) -> [String] {
        guard settings.dropCache else { return [] }
        let set = RuleSet.dropCacheSet(family)
        let allow = RuleSet.dropCacheAllowSet(family)
        var rules: [String] = []
        for (direction, _) in dropCacheDirections {
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

    /// The filter rules that put the address of a drop-cache-marked packet into the set and
    /// drop it (with reject: mark it for the REJECT rules that follow). None without the cache.
    /// Both marks are handled whatever `--match` says, so that a daemon started with another
    /// `--match` than the rules still has its listed packets dropped (its entries are then
    /// only never looked up).
    public func dropCacheFilterRules(for family: RuleSettings.Family) -> [String] {
        guard settings.dropCache else { return [] }
        let set = RuleSet.dropCacheSet(family)
        var rules: [String] = []
        // Without reject, one rule lets every packet without a cache mark return (one mark
        // test instead of four: iptables-nft runs `-m mark` through nft_compat, and every
        // accepted packet crosses this chain).
        if !settings.reject { rules.append("-m mark ! --mark 0xeb00/0xfffffffc -j RETURN") }
        let rejectMark = "-j MARK --set-xmark \(RuleSet.hex(settings.rejectMark))/\(RuleSet.hex(settings.rejectMask))"
        let both: [(direction: String, mark: UInt32)] = [
            ("src", PacketMark.dropCacheSource), ("dst", PacketMark.dropCacheDestination),
        ]
        for (direction, mark) in both {
            let match = "-m mark --mark \(RuleSet.hex(mark))"
            rules.append("\(match) -j SET --add-set \(set) \(direction) --exist")
            rules.append("\(match) \(settings.reject ? rejectMark : "-j DROP")")
        }
        return rules.map { "-A \(RuleSet.chain) \($0)" }
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
