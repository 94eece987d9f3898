import ExitSet

/// exitblock's iptables/ip6tables rules, generated from checked `RuleSettings`. Pure: no I/O.
///
/// Everything lives in one chain of the filter table, `EXITBLOCK`, which the configured
/// built-in chains (INPUT, FORWARD) jump to. In order, the chain holds:
///
/// 1. with `reject`: the rules that answer packets the daemon handed back (NF_REPEAT) with the
///    reject mark: TCP RST for TCP, ICMP admin-prohibited (ICMPv6 adm-prohibited) for the rest;
/// 2. one `RETURN` per `--skip-destination` prefix of the family;
/// 3. the NFQUEUE rule(s): one per (interface, protocol, group of at most 15 ports) when the
///    traffic is narrowed, each with `-m conntrack --ctstate NEW` in flow mode.
///
/// Rules are rendered exactly as `iptables-save` prints them (match order, address forms,
/// option order), so the installed chain can be compared line by line with the plan.
public struct RuleSet: Sendable, Equatable {
    /// exitblock's own chain in the filter table (the same name for iptables and ip6tables).
    public static let chain = "EXITBLOCK"

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
        self.settings = checked
    }

    /// The families, IPv4 first.
    public var families: [RuleSettings.Family] { settings.families.sorted() }

    /// The hooks, in the order iptables-save lists their chains (INPUT, FORWARD).
    public var hooks: [RuleSettings.Hook] { settings.hooks.sorted() }

    // MARK: - Rules

    /// The jumps from the hooks, e.g. `-A FORWARD -j EXITBLOCK`, in iptables-save order.
    public var hookRules: [String] {
        hooks.map { "-A \($0.chain) -j \(RuleSet.chain)" }
    }

    /// The rules of the EXITBLOCK chain for `family`, as iptables-save prints them.
    public func chainRules(for family: RuleSettings.Family) -> [String] {
        var rules: [String] = []
        if settings.reject {
            let mark = "-m mark --mark 0x\(String(settings.rejectMark, radix: 16))"
            let icmp = family == .ipv4 ? "icmp-admin-prohibited" : "icmp6-adm-prohibited"
            rules.append("-p tcp \(mark) -j REJECT --reject-with tcp-reset")
            rules.append("\(mark) -j REJECT --reject-with \(icmp)")
        }
        for prefix in skipDestinations(for: family) {
            rules.append("-d \(prefix.address)/\(prefix.length) -j RETURN")
        }
        let state = settings.mode == .flow ? "-m conntrack --ctstate NEW" : nil
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
                        state,
                        queueTarget,
                    ]
                    rules.append(parts.compactMap { $0 }.joined(separator: " "))
                }
            }
        }
        return rules.map { "-A \(RuleSet.chain) \($0)" }
    }

    /// What `rules show` prints for `family`: the hook jumps, then the chain's rules.
    public func listing(for family: RuleSettings.Family) -> [String] {
        hookRules + chainRules(for: family)
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

    // MARK: - Changes to a filter table

    /// The `iptables-restore --noflush` input that makes `current` hold this rule set, in one
    /// transaction: the chain is created or emptied (`:EXITBLOCK - [0:0]` flushes an existing
    /// user chain under --noflush) and refilled; each configured hook keeps its first plain
    /// jump or gets one inserted at the top; every other jump from INPUT or FORWARD to the
    /// chain (repeated ones, or from a hook no longer configured) is deleted. Jumps from
    /// other chains are the operator's own and are left alone.
    public func installScript(for family: RuleSettings.Family, current: FilterTable) -> [String] {
        var script = ["*filter", ":\(RuleSet.chain) - [0:0]"]
        script += chainRules(for: family)
        let plainJump = "-j \(RuleSet.chain)"
        for hook in RuleSettings.Hook.allCases {
            let references = current.references(to: RuleSet.chain).filter { $0.chain == hook.chain }
            let keep = settings.hooks.contains(hook) ? references.firstIndex { $0.spec == plainJump } : nil
            for (index, reference) in references.enumerated() where index != keep {
                script.append("-D \(reference.chain) \(reference.spec)")
            }
            if settings.hooks.contains(hook) && keep == nil {
                script.append("-I \(hook.chain) 1 \(plainJump)")
            }
        }
        script.append("COMMIT")
        return script
    }

    /// The `iptables-restore --noflush` input that takes exitblock's chain out of `current`:
    /// every jump to it (from any chain), then the chain. Nil when there is no such chain.
    public static func removeScript(current: FilterTable) -> [String]? {
        guard current.chains.contains(chain) else { return nil }
        var script = ["*filter"]
        for reference in current.references(to: chain) {
            script.append("-D \(reference.chain) \(reference.spec)")
        }
        script += ["-F \(chain)", "-X \(chain)", "COMMIT"]
        return script
    }

    /// What `rules show` prints for an installed table: the jumps to the chain, then its rules,
    /// as iptables-save prints them. Nil when the chain is not there.
    public static func listing(installed table: FilterTable) -> [String]? {
        guard table.chains.contains(chain) else { return nil }
        let jumps = table.references(to: chain)
        let own = table.rules.filter { $0.chain == chain }
        return (jumps + own).map(\.line)
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
