import ArgumentParser
import Engine
import ExitSet
import Rules

/// The options of `exitblock rules install|remove|show`, all in one group so that they map to
/// one `RuleSettings` value (which a config file can fill the same way).
struct RuleOptions: ParsableArguments {
    @Option(
        name: .customLong("hook"),
        help: ArgumentHelp(
            "Built-in chain(s) that jump to the EXITBLOCK chains: input, forward or both; repeatable (default forward).",
            valueName: "hook"
        )
    )
    var hooks: [HookArgument] = []

    @Option(
        name: .customLong("queue"),
        help: ArgumentHelp(
            "NFQUEUE number, or a range balanced over with --queue-balance (\"0\", \"0-3\"; default 0).",
            valueName: "n"
        )
    )
    var queue: NumberRange?

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "While no exitblock is bound to the queue, the kernel accepts the packets (fail open, the default); "
                + "--no-queue-bypass drops them (fail closed)."
        )
    )
    var queueBypass = true

    @Flag(help: "With a queue range, choose the queue by CPU instead of by flow hash (--queue-cpu-fanout).")
    var queueCpuFanout = false

    @Option(help: "Address families to install for: ipv4, ipv6 or both.")
    var family: FamilyArgument = .both

    @Option(
        name: .customLong("in-interface"),
        help: ArgumentHelp(
            "Queue only packets arriving on this interface (a trailing + is a wildcard); repeatable.",
            valueName: "name"
        )
    )
    var inInterfaces: [String] = []

    @Option(
        name: .customLong("protocol"),
        help: ArgumentHelp(
            "Queue only this protocol: tcp, udp, udplite, sctp, dccp, icmp (ICMPv6 for IPv6), gre, esp; repeatable.",
            valueName: "proto"
        )
    )
    var protocols: [RuleSettings.TransportProtocol] = []

    @Option(
        name: .customLong("destination-port"),
        help: ArgumentHelp(
            "Queue only packets to this port or range (\"443\", \"8000-8080\"); repeatable; tcp and udp unless "
                + "--protocol says otherwise.",
            valueName: "port"
        )
    )
    var destinationPorts: [PortArgument] = []

    @Option(
        name: .customLong("skip-destination"),
        help: ArgumentHelp(
            "Never queue packets to this address or prefix (RETURN before the queue rule); repeatable.",
            valueName: "prefix"
        )
    )
    var skipDestinations: [PrefixArgument] = []

    @Option(
        name: .customLong("source"),
        help: ArgumentHelp(
            "Queue only packets from this source prefix (customer networks); repeatable, both families "
                + "(each selected family needs one).",
            valueName: "prefix"
        )
    )
    var sources: [PrefixArgument] = []

    @Option(help: "packet: queue every packet; flow: only conntrack state NEW (must match the daemon's mode).")
    var mode: RuleSettings.Mode = .packet

    @Flag(help: "Add the filter-table rules that reject packets the daemon marks with the reject mark (TCP RST, ICMP).")
    var reject = false

    @Option(
        help: ArgumentHelp(
            "Packet mark of packets to reject, VALUE[/MASK] (decimal or 0x hex; the mask names exitblock's bits).",
            valueName: "mark"
        )
    )
    var rejectMark: MarkArgument = MarkArgument(RuleSettings.defaultRejectMark)

    @Option(help: "iptables backend: auto (what `iptables` is), legacy or nft.")
    var backend: RuleSettings.Backend = .auto

    @Option(
        help:
            "Which address the daemon looks up (as `run --match`): source, destination or both; the drop cache keys on it."
    )
    var match: MatchDirection = .source

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Keep addresses the daemon dropped in a kernel set (ipset exitblock-drop4/-drop6) and drop their later "
                + "packets in the kernel, before the queue rule (on by default; see the operator guide's Drop cache)."
        )
    )
    var dropCache = true

    @Option(
        help: ArgumentHelp(
            "How long an address stays in the drop cache after the daemon's last verdict on it (90s, 5m; default 60s).",
            valueName: "duration"
        )
    )
    var dropCacheTimeout: DurationArgument = DurationArgument(seconds: Double(CacheDefaults.timeout))

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Keep addresses the daemon accepted because they are not listed in a kernel set (ipset "
                + "exitblock-accept4/-accept6) and accept their later packets before the queue rule (on by default; "
                + "packet mode with --match source or destination only; see the operator guide's Accept cache)."
        )
    )
    var acceptCache = true

    @Option(
        help: ArgumentHelp(
            "How long an address stays in the accept cache after the daemon's last verdict on it (default 60s).",
            valueName: "duration"
        )
    )
    var acceptCacheTimeout: DurationArgument = DurationArgument(seconds: Double(CacheDefaults.timeout))

    @Option(help: "Entries the accept cache holds per family (ipset maxelem); when full, packets are judged as before.")
    var acceptCacheSize: UInt32 = CacheDefaults.acceptSize

    /// The settings these options describe.
    var settings: RuleSettings {
        var settings = RuleSettings()
        if !hooks.isEmpty { settings.hooks = Set(hooks.flatMap(\.hooks)) }
        if let queue { settings.queues = queue.numbers }
        settings.queueBypass = queueBypass
        settings.queueCPUFanout = queueCpuFanout
        settings.families = family.families
        settings.inInterfaces = inInterfaces
        settings.protocols = protocols
        settings.destinationPorts = destinationPorts.map(\.range)
        settings.skipDestinations = skipDestinations.map(\.prefix)
        settings.sources = sources.map(\.prefix)
        settings.mode = mode
        settings.reject = reject
        settings.rejectMark = rejectMark.value
        settings.rejectMask = rejectMark.mask
        settings.backend = backend
        settings.match = match
        settings.dropCache = dropCache
        settings.dropCacheTimeout = CacheDefaults.wholeSeconds(dropCacheTimeout.seconds)
        settings.acceptCache = acceptCache
        settings.acceptCacheTimeout = CacheDefaults.wholeSeconds(acceptCacheTimeout.seconds)
        settings.acceptCacheSize = acceptCacheSize
        return settings
    }

    func validate() throws {
        do { _ = try RuleSet(settings) } catch { throw ValidationError("--\(error)") }
    }
}

/// `--hook`: one hook or both.
enum HookArgument: String, ExpressibleByArgument, CaseIterable {
    case input, forward, both

    var hooks: [RuleSettings.Hook] {
        switch self {
        case .input: [.input]
        case .forward: [.forward]
        case .both: [.input, .forward]
        }
    }
}

/// `--family`: one family or both.
enum FamilyArgument: String, ExpressibleByArgument, CaseIterable {
    case ipv4, ipv6, both

    var families: Set<RuleSettings.Family> {
        switch self {
        case .ipv4: [.ipv4]
        case .ipv6: [.ipv6]
        case .both: [.ipv4, .ipv6]
        }
    }
}

/// `--destination-port`: `443`, `8000-8080` or `8000:8080`.
struct PortArgument: ExpressibleByArgument {
    var range: RuleSettings.PortRange

    init?(argument: String) {
        guard let range = RuleSettings.PortRange(argument) else { return nil }
        self.range = range
    }
}

/// `--skip-destination`: an address or prefix of either family.
struct PrefixArgument: ExpressibleByArgument {
    var prefix: IPPrefix

    init?(argument: String) {
        guard let prefix = IPPrefix(argument) else { return nil }
        self.prefix = prefix
    }
}

extension RuleSettings.TransportProtocol: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "icmpv6", "ipv6-icmp": self = .icmp
        default:
            guard let value = Self(rawValue: argument.lowercased()) else { return nil }
            self = value
        }
    }
}

extension RuleSettings.Mode: ExpressibleByArgument {}
extension RuleSettings.Backend: ExpressibleByArgument {}
