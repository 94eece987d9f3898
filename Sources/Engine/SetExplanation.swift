import ExitSet
import NetfilterQueue
import Rules

/// Why the daemon blocks or lets through one address (optionally with a port): the entry of
/// the set in force that matches it, the sources that listed that entry, the allowlist entry,
/// and the decision the policy in force takes on a packet of that address, computed by the
/// same `Policy` the workers use on the same `PolicySets` snapshot.
///
/// The packet judged: with match `source` or `both`, from ADDRESS; with `destination`, to
/// ADDRESS; the other address is the unspecified one (0.0.0.0 or ::). With a port, both of
/// the packet's ports are PORT, so an exit policy (the port the exit carries to) and relay
/// mode (the relay's own port) each see PORT; without one, the address alone decides.
public struct SetExplanation: Sendable, Equatable, Codable {
    /// A source that listed the matching entry.
    public struct Source: Sendable, Equatable, Codable {
        public var source: String
        /// The port policy this source gave the entry ("accept 80,443"); empty: all ports.
        public var policy: String
        /// Unix time the source's version in force was read, fetched or confirmed; 0: unknown.
        public var lastSuccess: Double = 0
        /// Unix time of the source's last refresh attempt; 0: unknown.
        public var lastAttempt: Double = 0
        /// The version in force is older than the source's maximum age.
        public var stale: Bool = false

        public init(source: String, policy: String) {
            self.source = source
            self.policy = policy
        }
    }

    public var address: String
    public var port: UInt16?
    /// `tcp` or `udp` (only with a port).
    public var transport: String
    /// The set entry matching the address; nil when it is not listed.
    public var entry: String?
    /// The union port policy of the address over every source (host entries only).
    public var policy: String?
    public var sources: [Source]
    /// The allowlist entry matching the address; nil when it is not allowlisted.
    public var allowlistEntry: String?
    /// `accept`, `allowlisted`, `listedSource`, `listedDestination`, `outsidePolicy`.
    public var decision: String
    /// The verdict enforcing mode sends: `accept`, `drop` or `reject`.
    public var verdict: String
    /// Listed and not let through by the allowlist or the port policy (dry-run: would be).
    public var blocked: Bool
    public var match: String
    public var exitPolicy: Bool
    public var relayPorts: Bool
    public var dryRun: Bool
    /// The generation of the sets judged with, and their size.
    public var setGeneration: UInt64
    public var setIPv4Entries: Int
    public var setIPv6Entries: Int

    /// Judges `address` (and `port` over `transport`, 6 or 17) with `policy` on `sets`, and
    /// names the sources that hold the matching entry (`sourcesHolding`, from the list
    /// sources' record of what each contributed; nil when unknown).
    public static func explain(
        _ address: IPAddress,
        port: UInt16?,
        transport: UInt8 = 6,
        sets: PolicySets,
        policy: Policy,
        sourcesHolding: ((IPPrefix) -> [Source])?
    ) -> SetExplanation {
        let entry = sets.exits.match(address)
        let decision = policy.decide(
            header(address, match: policy.match),
            ports: port.map { TransportPorts(kind: .ports, protocolNumber: transport, source: $0, destination: $0) }
                ?? TransportPorts(kind: .otherProtocol, protocolNumber: 1, source: 0, destination: 0),
            exits: sets.exits,
            allowlist: sets.activeAllowlist
        )
        let sources = entry.flatMap { entry in sourcesHolding.map { $0(entry) } } ?? []
        let isHost = entry.map { $0.length == 32 || $0.length == 128 } ?? false
        return SetExplanation(
            address: "\(address)",
            port: port,
            transport: transport == 17 ? "udp" : "tcp",
            entry: entry.map { "\($0)" },
            policy: isHost ? sets.exits.policy(of: address).map(\.summary) : nil,
            sources: sources,
            allowlistEntry: sets.allowlist.match(address).map { "\($0)" },
            decision: name(decision),
            verdict: verdictName(policy.enforcedVerdict(for: decision, mark: 0)),
            blocked: decision.isListed,
            match: policy.match.rawValue,
            exitPolicy: policy.exitPolicy,
            relayPorts: policy.relayPorts,
            dryRun: policy.dryRun,
            setGeneration: sets.generation,
            setIPv4Entries: sets.exits.ipv4Count,
            setIPv6Entries: sets.exits.ipv6Count
        )
    }

    /// A packet from (or, with match destination, to) `address`.
    static func header(_ address: IPAddress, match: MatchDirection) -> NetworkHeader {
        let toAddress = match == .destination
        switch address {
        case .v4(let v4):
            return toAddress ? .ipv4(source: 0, destination: v4.value) : .ipv4(source: v4.value, destination: 0)
        case .v6(let v6):
            let words = IPv6Words(high: v6.high, low: v6.low)
            let zero = IPv6Words(high: 0, low: 0)
            return toAddress ? .ipv6(source: zero, destination: words) : .ipv6(source: words, destination: zero)
        }
    }

    static func name(_ decision: Decision) -> String {
        switch decision {
        case .accept: return "accept"
        case .allowlisted: return "allowlisted"
        case .listedSource: return "listedSource"
        case .listedDestination: return "listedDestination"
        case .outsidePolicy: return "outsidePolicy"
        case .unparsable: return "unparsable"
        }
    }

    static func verdictName(_ verdict: Verdict) -> String {
        switch verdict {
        case .accept: return "accept"
        case .drop: return "drop"
        default: return "reject"
        }
    }
}
