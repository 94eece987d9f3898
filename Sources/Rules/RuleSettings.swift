import ExitSet

/// What `exitblock rules install` puts in place: which hooks send traffic to exitblock's chains,
/// which queue(s) it goes to, which traffic is queued, and how the daemon's verdicts are
/// carried out (flow mode, reject). A plain value: the CLI options fill it, a config file can
/// fill it the same way; `RuleSet` checks it and turns it into rules.
public struct RuleSettings: Sendable, Equatable {
    /// The built-in chains (of mangle, and of filter for reject) that jump to exitblock's chains.
    public enum Hook: String, Sendable, Hashable, CaseIterable, Comparable {
        /// Traffic addressed to the gateway itself.
        case input
        /// Traffic routed through the gateway (the usual case).
        case forward

        /// The iptables chain name.
        public var chain: String { self == .input ? "INPUT" : "FORWARD" }

        public static func < (lhs: Hook, rhs: Hook) -> Bool { lhs == .input && rhs == .forward }
    }

    /// An address family, each with its own tool (iptables, ip6tables) and ruleset.
    public enum Family: String, Sendable, Hashable, CaseIterable, Comparable {
        case ipv4, ipv6

        public static func < (lhs: Family, rhs: Family) -> Bool { lhs == .ipv4 && rhs == .ipv6 }
    }

    /// Which packets of the matched traffic are queued; must match the daemon's mode.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Every packet.
        case packet
        /// Only packets whose conntrack state is NEW: the first packet of each connection, and
        /// any packet of a connection whose conntrack entry was deleted.
        case flow
    }

    /// Which iptables the rules go through (not part of the rules themselves).
    public enum Backend: String, Sendable, Hashable, CaseIterable {
        /// The one the `iptables` command is (`iptables --version` says `legacy` or `nf_tables`).
        case auto
        /// iptables-legacy / ip6tables-legacy (the x_tables kernel interface).
        case legacy
        /// iptables-nft / ip6tables-nft (the same rules kept in nf_tables).
        case nft
    }

    /// Protocols a rule can select (`--protocol`). `icmp` means ICMP for IPv4 and ICMPv6 for IPv6.
    public enum TransportProtocol: String, Sendable, Hashable, CaseIterable, Comparable {
        case tcp, udp, udplite, sctp, dccp, icmp, gre, esp

        /// Whether the protocol has ports (`--destination-port` applies to it).
        public var hasPorts: Bool {
            switch self {
            case .tcp, .udp, .udplite, .sctp, .dccp: true
            case .icmp, .gre, .esp: false
            }
        }

        public static func < (lhs: TransportProtocol, rhs: TransportProtocol) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// A destination port or an inclusive range of them.
    public struct PortRange: Sendable, Hashable, Comparable, CustomStringConvertible {
        public let first: UInt16
        public let last: UInt16

        /// `first...last`; nil unless `1 <= first <= last`.
        public init?(_ first: UInt16, _ last: UInt16) {
            guard first >= 1, first <= last else { return nil }
            self.first = first
            self.last = last
        }

        /// Parses `"443"`, `"8000-8080"` or `"8000:8080"` (ports 1...65535).
        public init?(_ text: some StringProtocol) {
            let parts = text.split(omittingEmptySubsequences: false) { $0 == "-" || $0 == ":" }
            guard parts.count == 1 || parts.count == 2,
                parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                let first = UInt16(parts[0]),
                let last = parts.count == 2 ? UInt16(parts[1]) : first
            else { return nil }
            self.init(first, last)
        }

        public var isSingle: Bool { first == last }

        /// `"443"` or `"8000-8080"`.
        public var description: String { isSingle ? "\(first)" : "\(first)-\(last)" }

        public static func < (lhs: PortRange, rhs: PortRange) -> Bool {
            (lhs.first, lhs.last) < (rhs.first, rhs.last)
        }
    }

    /// Built-in chains that jump to exitblock's chains (`--hook`). Default: forward.
    public var hooks: Set<Hook> = [.forward]
    /// Families to install for (`--family`). Default: both.
    public var families: Set<Family> = [.ipv4, .ipv6]
    /// The NFQUEUE number, or the range balanced over (`--queue`). Default: 0.
    public var queues: ClosedRange<UInt16> = 0...0
    /// While no process is bound to the queue the kernel accepts the packets (`--queue-bypass`,
    /// the default) instead of dropping them (`--no-queue-bypass`).
    public var queueBypass = true
    /// With a queue range, pick the queue by CPU instead of by flow hash (`--queue-cpu-fanout`).
    public var queueCPUFanout = false
    /// Queue only packets coming in on these interfaces (`--in-interface`); empty: any.
    /// A trailing `+` is a wildcard, as in iptables.
    public var inInterfaces: [String] = []
    /// Queue only these protocols (`--protocol`); empty: all (or tcp and udp with ports).
    public var protocols: [TransportProtocol] = []
    /// Queue only packets to these destination ports (`--destination-port`); empty: any.
    public var destinationPorts: [PortRange] = []
    /// Never queue packets to these destinations (`--skip-destination`), per family.
    public var skipDestinations: [IPPrefix] = []
    /// Queue only packets from these source prefixes (`--source`, customer networks), per
    /// family; empty: any source. Every selected family needs one when any is given.
    public var sources: [IPPrefix] = []
    /// packet or flow (`--mode`). Default: packet.
    public var mode: Mode = .packet
    /// Add the filter-table rules that REJECT packets the daemon accepted with `rejectMark`
    /// set (`--reject`).
    public var reject = false
    /// The packet mark the daemon sets on packets to reject (`--reject-mark VALUE[/MASK]`).
    public var rejectMark: UInt32 = RuleSettings.defaultRejectMark
    /// The bits of the mark that are exitblock's (`--reject-mark VALUE/MASK`); the REJECT rule
    /// matches `mark & rejectMask == rejectMark`. Default: every bit.
    public var rejectMask: UInt32 = 0xffff_ffff
    /// Which iptables to use (`--backend`). Default: auto.
    public var backend: Backend = .auto
    /// Keep listed addresses in a kernel set (ipset `exitblock-drop4`/`-drop6`) for
    /// `dropCacheTimeout` seconds once the daemon dropped (or rejected) one of their packets,
    /// and drop (reject) their later packets in the kernel, before the queue rule
    /// (`--no-drop-cache` turns it off). Default: on.
    public var dropCache = true
    /// Seconds an address stays in the drop cache after the daemon's last verdict on it
    /// (`--drop-cache-timeout`, 1...2147483). Default: 60.
    public var dropCacheTimeout: UInt32 = CacheDefaults.timeout
    /// Keep addresses the daemon accepted because they are not listed in a kernel set (ipset
    /// `exitblock-accept4`/`-accept6`) and accept their later packets in mangle, before the
    /// queue rule (`--no-accept-cache` turns it off). Packet mode with `--match source` or
    /// `destination` only. Default: on.
    public var acceptCache = true
    /// Seconds an address stays in the accept cache after the daemon's last verdict on it
    /// (`--accept-cache-timeout`, 1...2147483). Default: 60.
    public var acceptCacheTimeout: UInt32 = CacheDefaults.timeout
    /// The accept cache's bound per family (ipset maxelem, `--accept-cache-size`). Default
    /// 262144: the distinct clean peers of a busy ISP gateway in a minute fit, at about 100
    /// bytes per entry (26 MB per family when full); when full, packets are judged as before.
    public var acceptCacheSize: UInt32 = CacheDefaults.acceptSize
    /// The address(es) the daemon judges (`--match`, as `exitblock run --match`): the drop
    /// cache holds the address that matched and matches packets by it (the source, the
    /// destination, or either with both).
    public var match: MatchDirection = .source

    /// The default reject mark: 0x4542, "EB".
    public static let defaultRejectMark: UInt32 = PacketMark.defaultReject

    public init() {}
}

/// A setting `RuleSet` cannot turn into rules, naming the setting (as its command-line option).
public struct RuleSettingsError: Error, Equatable, CustomStringConvertible {
    /// The option or config key at fault, e.g. `in-interface`.
    public let setting: String
    /// What is wrong, for a person.
    public let reason: String

    public init(_ setting: String, _ reason: String) {
        self.setting = setting
        self.reason = reason
    }

    public var description: String { "\(setting): \(reason)" }
}
