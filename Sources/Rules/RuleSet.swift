import ExitSet

/// exitblock's iptables/ip6tables rules, generated from checked `RuleSettings`. Pure: no I/O.
///
/// Where they sit: an NF_ACCEPT verdict (and `--queue-bypass` with no listener) ends the
/// traversal of the *table* that queued the packet at that hook, not the hook: the next table
/// runs. So the queue is in the mangle table (priority -150, NF_IP_PRI_MANGLE), and every
/// packet exitblock does not drop goes on into the filter table (priority 0) and the tables
/// after it exactly as if exitblock were not installed, whatever the daemon's state.
///
/// - mangle: the chain `EXITBLOCK`, jumped to from the *end* of each configured hook's chain
///   (INPUT, FORWARD), so every mangle rule of the operator at that hook runs first (an
///   accept also ends the rest of mangle's chain). In flow mode it starts with a `RETURN` of
///   every packet whose conntrack state is not NEW; then one `RETURN` per
///   `--skip-destination` prefix of the family, then the NFQUEUE rule(s): one per
///   (interface, protocol, group of at most 15 ports).
/// - filter, only with `reject`: the chain `EXITBLOCK`, jumped to from the *top* of each
///   configured hook, holding the rules that REJECT packets the daemon accepted with the
///   reject mark set (TCP RST for TCP, ICMP admin-prohibited (ICMPv6 adm-prohibited) for the
///   rest); REJECT exists only in the filter table. Unmarked packets return at once.
///
/// Rules are rendered exactly as `iptables-save` prints them (match order, address forms,
/// option order), so the installed chains can be compared line by line with the plan.
public struct RuleSet: Sendable, Equatable {
    /// exitblock's own chain, in the mangle table (and in filter with reject); the same name
    /// for iptables and ip6tables.
    public static let chain = "EXITBLOCK"
    /// The table of the queue chain. An accept there ends only mangle's chain at the hook.
    public static let queueTable = "mangle"
    /// The table of the reject chain (REJECT is valid only in filter).
    public static let rejectTable = "filter"

    /// The settings, checked, with repeated values removed.
    public let settings: RuleSettings

    /// Checks `settings`; throws naming the first setting that cannot be turned into rules.
    public init(_ settings: RuleSettings) throws(RuleSettingsError) {
        var checked = settings
        guard !settings.hooks.isEmpty else {
            throw RuleSettingsError("hook", "give at least one hook (input, forward)")
        }
        guard !settings.families.isEmpty else { throw RuleSettingsError("family", "give at least one family") }
        if settings.queueCPUFanout && settings.queues.count == 1 {
            throw RuleSettingsError("queue-cpu-fanout", "needs a queue range (--queue N-M)")
        }
        for name in settings.inInterfaces {
            if let problem = RuleSet.interfaceProblem(name) {
                throw RuleSettingsError("in-interface", "'\(name)': \(problem)")
            }
        }
        checked.inInterfaces = RuleSet.unique(settings.inInterfaces)
        checked.protocols = RuleSet.unique(settings.protocols)
        checked.destinationPorts = RuleSet.unique(settings.destinationPorts)
        checked.skipDestinations = RuleSet.unique(settings.skipDestinations)
        checked.sources = RuleSet.unique(settings.sources)
        if !checked.sources.isEmpty {
            for family in settings.families where RuleSet.prefixes(checked.sources, of: family).isEmpty {
                let name = family == .ipv4 ? "IPv4" : "IPv6"
                throw RuleSettingsError(
                    "source",
                    "no \(name) prefix: give one, or leave \(name) out with --family (otherwise \(name) is not queued)"
                )
            }
        }
        if !settings.destinationPorts.isEmpty, let portless = checked.protocols.first(where: { !$0.hasPorts }) {
            throw RuleSettingsError(
                "destination-port",
                "protocol \(portless.rawValue) has no ports; ports apply to tcp, udp, udplite, sctp and dccp"
            )
        }
        if settings.reject && settings.rejectMark == 0 {
            throw RuleSettingsError("reject-mark", "must not be 0 (every unmarked packet has mark 0)")
        }
        if settings.reject && settings.rejectMark & ~settings.rejectMask != 0 {
            throw RuleSettingsError("reject-mark", "the value has bits outside the mask")
        }
        if settings.dropCache && !CacheDefaults.timeoutRange.contains(settings.dropCacheTimeout) {
            throw RuleSettingsError("drop-cache-timeout", "must be 1 to 2147483 seconds (ipset's limit)")
        }
        if settings.acceptCache && !CacheDefaults.timeoutRange.contains(settings.acceptCacheTimeout) {
            throw RuleSettingsError("accept-cache-timeout", "must be 1 to 2147483 seconds (ipset's limit)")
        }
        if settings.acceptCache && settings.acceptCacheSize == 0 {
            throw RuleSettingsError("accept-cache-size", "must be at least 1")
        }
        self.settings = checked
    }

    /// The families, IPv4 first.
    public var families: [RuleSettings.Family] { settings.families.sorted() }

    /// The hooks, in the order iptables-save lists their chains (INPUT, FORWARD).
    public var hooks: [RuleSettings.Hook] { settings.hooks.sorted() }

    // MARK: - Rules

    /// The jumps to the queue chain of mangle, e.g. `-A FORWARD -j EXITBLOCK`, in iptables-save order.
    public var queueHookRules: [String] {
        hooks.map { "-A \($0.chain) -j \(RuleSet.chain)" }
    }

    /// The jumps to the filter chain (none without reject and without the drop cache).
    public var rejectHookRules: [String] {
        hasFilterChain ? queueHookRules : []
    }

    /// Whether filter holds an EXITBLOCK chain: for reject only (the caches' rules are all in
    /// mangle; the daemon fills the sets through netlink).
    public var hasFilterChain: Bool { settings.reject }

    /// The rules of mangle's EXITBLOCK chain for `family`, as iptables-save prints them. With
    /// the caches, each queue rule is preceded by rules with the same matches that accept
    /// packets whose judged address is in the accept set, then drop those whose judged address
    /// is in the drop set (with reject: mark them for the filter REJECT rules and accept
    /// them), so a cached packet is never queued.
    public func queueRules(for family: RuleSettings.Family) -> [String] {
        var rules: [String] = []
        // Flow mode: every packet of a known connection leaves at the first rule, instead of
        // failing the state match of each cache rule and of the queue rule in turn.
        if settings.mode == .flow { rules.append(RuleSet.flowReturnRule) }
        for prefix in skipDestinations(for: family) {
            rules.append("-d \(prefix.address)/\(prefix.length) -j RETURN")
        }
        let interfaces: [String?] = settings.inInterfaces.isEmpty ? [nil] : settings.inInterfaces
        let familySources = RuleSet.prefixes(settings.sources, of: family)
        let sources: [String?] = familySources.isEmpty ? [nil] : familySources.map { "-s \($0.address)/\($0.length)" }
        for source in sources {
            for interface in interfaces {
                for (proto, ports) in protocolSelections {
                    let parts: [String?] = [
                        source,
                        interface.map { "-i \($0)" },
                        proto.map { "-p \(RuleSet.iptablesName($0, family))" },
                        ports.map { "-m multiport --dports \($0)" },
                    ]
                    let selection = parts.compactMap { $0 }
                    rules += cacheRules(selection: selection, family: family)
                    rules.append((selection + [queueTarget]).joined(separator: " "))
                }
            }
        }
        return rules.map { "-A \(RuleSet.chain) \($0)" }
    }

    /// Flow mode's first rule of the queue chain: packets of connections conntrack knows
    /// (every state but NEW) return at once; the rules after it see NEW packets only.
    static let flowReturnRule = "-m conntrack ! --ctstate NEW -j RETURN"

    /// The rules of filter's EXITBLOCK chain for `family` (none without reject).
    public func rejectRules(for family: RuleSettings.Family) -> [String] {
        guard settings.reject else { return [] }
        let mark = "-m mark --mark \(PacketMark.text(settings.rejectMark, mask: settings.rejectMask))"
        let icmp = family == .ipv4 ? "icmp-admin-prohibited" : "icmp6-adm-prohibited"
        return [
            "-A \(RuleSet.chain) -p tcp \(mark) -j REJECT --reject-with tcp-reset",
            "-A \(RuleSet.chain) \(mark) -j REJECT --reject-with \(icmp)",
        ]
    }

    /// The rules of filter's EXITBLOCK chain for `family`: reject's.
    public func filterRules(for family: RuleSettings.Family) -> [String] {
        rejectRules(for: family)
    }

    /// What `rules show` prints for `family`: `*mangle`, the jumps and the queue chain; then
    /// with reject or the drop cache `*filter`, the jumps and the filter chain.
    public func listing(for family: RuleSettings.Family) -> [String] {
        var lines = ["*\(RuleSet.queueTable)"] + queueHookRules + queueRules(for: family)
        if hasFilterChain { lines += ["*\(RuleSet.rejectTable)"] + rejectHookRules + filterRules(for: family) }
        return lines
    }

    /// The prefixes of `family` among `prefixes`.
    static func prefixes(_ prefixes: [IPPrefix], of family: RuleSettings.Family) -> [IPPrefix] {
        prefixes.filter {
            switch $0.address {
            case .v4: family == .ipv4
            case .v6: family == .ipv6
            }
        }
    }

    /// The skip prefixes of `family`.
    public func skipDestinations(for family: RuleSettings.Family) -> [IPPrefix] {
        settings.skipDestinations.filter {
            switch $0.address {
            case .v4: family == .ipv4
            case .v6: family == .ipv6
            }
        }
    }

    /// `-j NFQUEUE` with its options, in the order iptables-save prints them.
    var queueTarget: String {
        let queues = settings.queues
        var target =
            queues.count == 1
            ? "-j NFQUEUE --queue-num \(queues.lowerBound)"
            : "-j NFQUEUE --queue-balance \(queues.lowerBound):\(queues.upperBound)"
        if settings.queueBypass { target += " --queue-bypass" }
        if settings.queueCPUFanout { target += " --queue-cpu-fanout" }
        return target
    }

    /// (protocol, multiport list) pairs, one NFQUEUE rule each (per interface); nil: any.
    var protocolSelections: [(RuleSettings.TransportProtocol?, String?)] {
        let ports = settings.destinationPorts
        if ports.isEmpty {
            return settings.protocols.isEmpty ? [(nil, nil)] : settings.protocols.map { ($0, nil) }
        }
        let protocols: [RuleSettings.TransportProtocol] =
            settings.protocols.isEmpty ? [.tcp, .udp] : settings.protocols
        let groups = RuleSet.multiportGroups(ports)
        return protocols.flatMap { proto in groups.map { (proto, $0) } }
    }

    /// Splits ports into multiport lists (`80,443,8000:8080`) of at most 15 slots each: the
    /// multiport match holds 15, and a range takes two.
    static func multiportGroups(_ ports: [RuleSettings.PortRange]) -> [String] {
        var groups: [String] = []
        var current: [String] = []
        var slots = 0
        for port in ports {
            let cost = port.isSingle ? 1 : 2
            if slots + cost > 15 {
                groups.append(current.joined(separator: ","))
                current = []
                slots = 0
            }
            current.append(port.isSingle ? "\(port.first)" : "\(port.first):\(port.last)")
            slots += cost
        }
        if !current.isEmpty { groups.append(current.joined(separator: ",")) }
        return groups
    }

    /// The name iptables-save prints for a protocol of `family`.
    static func iptablesName(_ proto: RuleSettings.TransportProtocol, _ family: RuleSettings.Family) -> String {
        proto == .icmp && family == .ipv6 ? "ipv6-icmp" : proto.rawValue
    }

    // MARK: - Changes to the tables

    /// The `iptables-restore --noflush` input that makes the tables hold this rule set, given
    /// their current `mangle` and `filter` content. One input, two tables, mangle first:
    ///
    /// - mangle: the chain is created or emptied (`:EXITBLOCK - [0:0]` flushes an existing
    ///   user chain under --noflush) and refilled; each configured hook keeps its jump when
    ///   that is the hook's last rule and its only jump to the chain, else every jump of the
    ///   hook to the chain is deleted and one appended; hooks not configured lose theirs.
    /// - filter with reject: the same with the reject chain, the jump kept or put *first*.
    /// - filter without reject: a filter `EXITBLOCK` chain (the old layout, which queued from
    ///   filter, or an earlier install with reject) is deleted with every jump to it.
    ///
    /// Jumps from the operator's own chains to mangle's chain are left alone. iptables-nft
    /// applies the whole input as one transaction; iptables-legacy replaces each table at its
    /// COMMIT, mangle first, so an upgrade from the old layout queues twice for an instant
    /// rather than not at all.
    public func installScript(
        for family: RuleSettings.Family,
        mangle: SavedTable,
        filter: SavedTable
    ) -> [String] {
        var script = ["*\(RuleSet.queueTable)", ":\(RuleSet.chain) - [0:0]"] + queueRules(for: family)
        script += RuleSet.jumpChanges(in: mangle, hooks: settings.hooks, atTop: false)
        script.append("COMMIT")
        if hasFilterChain {
            script += ["*\(RuleSet.rejectTable)", ":\(RuleSet.chain) - [0:0]"] + filterRules(for: family)
            script += RuleSet.jumpChanges(in: filter, hooks: settings.hooks, atTop: true)
            script.append("COMMIT")
        } else if let removal = RuleSet.removeScript(table: RuleSet.rejectTable, current: filter) {
            script += removal
        }
        return script
    }

    /// The lines that leave each hook in `hooks` with exactly one plain jump to the chain, as
    /// its first (`atTop`) or last rule, and the other hooks (INPUT, FORWARD) with none.
    static func jumpChanges(in table: SavedTable, hooks: Set<RuleSettings.Hook>, atTop: Bool) -> [String] {
        var lines: [String] = []
        let plainJump = "-j \(RuleSet.chain)"
        for hook in RuleSettings.Hook.allCases {
            let references = table.references(to: RuleSet.chain).filter { $0.chain == hook.chain }
            let own = table.rules(of: hook.chain)
            let edge = atTop ? own.first : own.last
            let inPlace = references.count == 1 && edge == references[0] && references[0].spec == plainJump
            if hooks.contains(hook) && inPlace { continue }
            // -D by spec deletes the first identical rule; as many -D as references delete them all.
            for reference in references { lines.append("-D \(reference.chain) \(reference.spec)") }
            if hooks.contains(hook) {
                lines.append(atTop ? "-I \(hook.chain) 1 \(plainJump)" : "-A \(hook.chain) \(plainJump)")
            }
        }
        return lines
    }

    /// The `iptables-restore --noflush` input that takes exitblock's chains out of the tables:
    /// every jump to them (from any chain), then the chains, for both layouts (the queue chain
    /// of mangle, the reject chain of filter, and the old layout's queue chain in filter). Nil
    /// when neither table has the chain.
    public static func removeScript(mangle: SavedTable, filter: SavedTable) -> [String]? {
        let parts = [
            removeScript(table: queueTable, current: mangle), removeScript(table: rejectTable, current: filter),
        ]
        let script = parts.compactMap { $0 }.flatMap { $0 }
        return script.isEmpty ? nil : script
    }

    /// The removal of the chain from one table (`*TABLE` ... `COMMIT`); nil when it is not there.
    static func removeScript(table: String, current: SavedTable) -> [String]? {
        guard current.chains.contains(chain) else { return nil }
        var script = ["*\(table)"]
        for reference in current.references(to: chain) {
            script.append("-D \(reference.chain) \(reference.spec)")
        }
        script += ["-F \(chain)", "-X \(chain)", "COMMIT"]
        return script
    }

    /// Whether `filter` holds the old layout: an EXITBLOCK chain of filter that queues (its
    /// accepts end the operator's filter rules). `rules install` moves it to mangle.
    public static func hasOldLayout(filter: SavedTable) -> Bool {
        filter.rules(of: chain).contains { $0.target == "NFQUEUE" }
    }

    /// What `rules show` prints for installed tables: for each table holding the chain,
    /// `*TABLE`, the jumps to the chain, then its rules, as iptables-save prints them. Nil when
    /// neither table has it.
    public static func listing(mangle: SavedTable, filter: SavedTable) -> [String]? {
        var lines: [String] = []
        for (name, table) in [(queueTable, mangle), (rejectTable, filter)] where table.chains.contains(chain) {
            lines.append("*\(name)")
            lines += (table.references(to: chain) + table.rules(of: chain)).map(\.line)
        }
        return lines.isEmpty ? nil : lines
    }

    // MARK: - Helpers

    /// Why `name` cannot be an interface for `-i`; nil when it can. Linux names have at most
    /// 15 bytes; a trailing `+` matches every name with that beginning (iptables' wildcard).
    static func interfaceProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "empty interface name" }
        if bytes.count > 15 { return "longer than 15 characters" }
        if name == "+" { return "'+' alone matches every interface; leave --in-interface out instead" }
        for (index, byte) in bytes.enumerated() {
            let allowed =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E || byte == 0x40 || byte == 0x3A
            if allowed { continue }
            if byte == 0x2B && index == bytes.count - 1 { continue }
            return "only letters, digits, '-', '_', '.', '@', ':' and a trailing '+' (wildcard)"
        }
        return nil
    }

    /// `values` without repeats, first occurrence kept.
    static func unique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>()
        return values.filter { seen.insert($0).inserted }
    }
}
