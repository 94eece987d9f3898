import ExitSet
import NetfilterQueue
import Rules

/// What the policy found for one packet, before it becomes a verdict.
public enum Decision: Sendable, Hashable {
    /// No address the policy looks at is listed.
    case accept
    /// The source or the destination is in the allowlist: accepted whatever the exit set says.
    case allowlisted
    /// The source address is listed (source or both directions).
    case listedSource
    /// The destination address is listed (destination or both directions).
    case listedDestination
    /// With `exitPolicy`: a judged address is listed, but the port policy of its entry leaves
    /// the packet's port out (the destination port when the source is judged, the source port
    /// when the destination is), so it cannot be Tor traffic of that exit: accepted.
    case outsidePolicy
    /// The header could not be read; the packet gets the configured default verdict.
    case unparsable(UnparsableReason)

    /// True for `listedSource` and `listedDestination`.
    @inline(__always)
    public var isListed: Bool {
        switch self {
        case .listedSource, .listedDestination: return true
        default: return false
        }
    }
}

/// The verdict policy: a pure function of the packet's header (and mark), the sets and the
/// configuration. No I/O, no counters, no allocation: testable without root or socket.
public struct Policy: Sendable, Equatable {
    /// What a listed packet gets.
    public enum Action: Sendable, Equatable {
        /// NF_DROP.
        case drop
        /// NF_ACCEPT with the reject mark set, so that the REJECT rule of the filter table (a
        /// later table at the same hook) answers it. `mask` says which bits of the packet's
        /// mark are exitblock's: the packet leaves with `(mark & ~mask) | value`, the
        /// operator's other bits kept; a rule matches it with `-m mark --mark value/mask`.
        case reject(mark: UInt32, mask: UInt32 = 0xffff_ffff)
    }

    /// The verdict for packets whose header cannot be read. Default: accept, so that a
    /// parse failure never blocks traffic that the operator did not ask to block.
    public var unparsableVerdict: Verdict
    /// Which address(es) are looked up in the exit set.
    public var match: MatchDirection
    /// What a listed packet gets when enforcing.
    public var action: Action
    /// Decide and count, but accept every packet.
    public var dryRun: Bool
    /// Judge TCP and UDP packets of listed addresses by the exit's port policy too (see
    /// `decide(_:ports:exits:allowlist:)`). Off: the address alone decides.
    public var exitPolicy: Bool
    /// Relay mode (lists read as `ListFormat.relays`): a packet counts only when it is TCP and
    /// the listed address's own port (the source port when the source is judged, the
    /// destination port when the destination is) is one of the relay's ORPorts or DirPorts.
    public var relayPorts: Bool

    /// Hand the judged address of listed IPv4 packets to the drop cache's writer (see
    /// `cachesDrop`): the rules of `rules install` drop its later packets in the kernel. Only
    /// when those rules are in place; the CLI checks them. Never used in dry-run.
    public var dropCacheIPv4 = false
    /// The same for IPv6 packets.
    public var dropCacheIPv6 = false
    /// Hand the judged address of IPv4 packets accepted because it is not listed to the
    /// accept cache's writer (see `cachesAccept`). Only in packet mode with the cache's rules
    /// in place; the CLI checks them.
    public var acceptCacheIPv4 = false
    /// The same for IPv6 packets.
    public var acceptCacheIPv6 = false

    public init(
        unparsableVerdict: Verdict = .accept,
        match: MatchDirection = .source,
        action: Action = .drop,
        dryRun: Bool = false,
        exitPolicy: Bool = false,
        relayPorts: Bool = false
    ) {
        self.unparsableVerdict = unparsableVerdict
        self.match = match
        self.action = action
        self.dryRun = dryRun
        self.exitPolicy = exitPolicy
        self.relayPorts = relayPorts
    }

    /// Whether ports take part in the decision (`exitPolicy` or `relayPorts`).
    @inline(__always)
    public var judgesPorts: Bool { exitPolicy || relayPorts }

    /// The whole policy for one packet, the one entry the worker and the tests call: the
    /// decision (allowlist, exit set, ports; see `decide`), the verdict sent (ACCEPT in
    /// dry-run; the reject mark, or a drop for a packet that came back with it), whether the
    /// judged address goes to a verdict cache, and what the counters need.
    /// Cost: that of `decide`, plus a few compares; no allocation.
    @inline(__always)
    public func judge(_ packet: QueuedPacket, in sets: PolicySets) -> Judgement {
        let decision = decide(packet.header, ports: packet.ports, exits: sets.exits, allowlist: sets.activeAllowlist)
        let cached = decision.isListed ? cachesDrop(packet.header) : cachesAccept(packet.header, decision)
        let enforced = enforcedVerdict(for: decision, mark: packet.mark)
        return Judgement(
            decision: decision,
            verdict: dryRun ? .accept : enforced,
            enforced: enforced,
            cached: cached,
            returned: cameBack(decision, mark: packet.mark),
            portsUnread: judgesPorts && decision.isListed && packet.ports.kind == .unread
        )
    }

    /// Decides on a packet from its addresses and, with `exitPolicy` or `relayPorts`, its
    /// ports. `exitPolicy`: a listed address counts only when its entry's port policy covers
    /// the port the exit would have carried the packet to (the destination port when the
    /// source is judged, the source port when the destination is); packets without readable
    /// ports (other protocols, ports not in the copied bytes) are judged on the address.
    /// `relayPorts`: a listed address counts only for TCP to or from one of its own listening
    /// ports; other protocols never count, TCP whose ports were not copied is judged on the
    /// address. Entries without a policy (plain lists, prefixes) cover every port.
    /// Cost without ports in play: that of `decide(_:exits:allowlist:)`; with them, the same
    /// lookups plus one or two reads of the policy bitmaps and one call.
    @inline(__always)
    func decide(_ header: NetworkHeader, ports: TransportPorts, exits: ExitSet, allowlist: ExitSet?)
        -> Decision
    {
        if exitPolicy && ports.kind == .ports {
            return decideByPort(
                header,
                sourcePort: ports.destination,
                destinationPort: ports.source,
                exits: exits,
                allowlist: allowlist
            )
        }
        if relayPorts && ports.kind != .unread {
            // Port 0 is in no relay's set: UDP and other protocols never count.
            let tcp = ports.kind == .ports && ports.protocolNumber == 6
            return decideByPort(
                header,
                sourcePort: tcp ? ports.source : 0,
                destinationPort: tcp ? ports.destination : 0,
                exits: exits,
                allowlist: allowlist
            )
        }
        return decide(header, exits: exits, allowlist: allowlist)
    }

    /// The port-aware half of `decide(_:ports:exits:allowlist:)`: the source address is
    /// looked up with `sourcePort`, the destination address with `destinationPort`. Kept out
    /// of line so the worker's loop holds one copy of each lookup.
    @inline(never)
    func decideByPort(
        _ header: NetworkHeader,
        sourcePort: UInt16,
        destinationPort: UInt16,
        exits: ExitSet,
        allowlist: ExitSet?
    ) -> Decision {
        var outside = false
        switch header {
        case .ipv4(let source, let destination):
            if let allowlist, allowlist.contains(ipv4: source) || allowlist.contains(ipv4: destination) {
                return .allowlisted
            }
            if match != .destination {
                switch exits.match(ipv4: source, port: sourcePort) {
                case .listed: return .listedSource
                case .outsidePolicy: outside = true
                case .notListed: break
                }
            }
            if match != .source {
                switch exits.match(ipv4: destination, port: destinationPort) {
                case .listed: return .listedDestination
                case .outsidePolicy: outside = true
                case .notListed: break
                }
            }
        case .ipv6(let source, let destination):
            if let allowlist,
                allowlist.contains(ipv6High: source.high, ipv6Low: source.low)
                    || allowlist.contains(ipv6High: destination.high, ipv6Low: destination.low)
            {
                return .allowlisted
            }
            if match != .destination {
                switch exits.match(ipv6High: source.high, ipv6Low: source.low, port: sourcePort) {
                case .listed: return .listedSource
                case .outsidePolicy: outside = true
                case .notListed: break
                }
            }
            if match != .source {
                switch exits.match(ipv6High: destination.high, ipv6Low: destination.low, port: destinationPort) {
                case .listed: return .listedDestination
                case .outsidePolicy: outside = true
                case .notListed: break
                }
            }
        case .unparsable(let reason):
            return .unparsable(reason)
        }
        return outside ? .outsidePolicy : .accept
    }

    /// Whether a listed packet of this header goes into the drop cache: the cache is on for
    /// its family, and not dry-run.
    @inline(__always)
    func cachesDrop(_ header: NetworkHeader) -> Bool {
        // The cache is keyed on the address alone: with ports in the decision (exit policies,
        // relay mode) a cached drop would also take the ports the policy leaves out.
        guard !dryRun, !judgesPorts else { return false }
        switch header {
        case .ipv4: return dropCacheIPv4
        case .ipv6: return dropCacheIPv6
        case .unparsable: return false
        }
    }

    /// Whether a packet accepted with `decision` goes into the accept cache: the decision is
    /// `.accept` (the judged address is not listed; an allowlisted or outside-policy accept is
    /// never cached), the cache is on for its family, not dry-run, no ports in the decision,
    /// and the policy judges one address (with `both` a cached source would also let through
    /// packets to a listed destination).
    @inline(__always)
    public func cachesAccept(_ header: NetworkHeader, _ decision: Decision) -> Bool {
        guard decision == .accept, !dryRun, !judgesPorts, match != .both else { return false }
        switch header {
        case .ipv4: return acceptCacheIPv4
        case .ipv6: return acceptCacheIPv6
        case .unparsable: return false
        }
    }

    /// Whether the address the cache keys a decision on is the source (else the destination):
    /// the listed one for a listed decision, the judged one (by `match`) for an accept.
    @inline(__always)
    public func cacheKeyIsSource(_ decision: Decision) -> Bool {
        switch decision {
        case .listedSource: return true
        case .listedDestination: return false
        default: return match != .destination
        }
    }

    /// Decides on a packet from its addresses: the allowlist first (either address), then the
    /// exit set (the address(es) `match` names; with `both` the source is looked up first).
    /// Cost: one or two set lookups, plus two lookups in the allowlist when it is not empty.
    @inline(__always)
    func decide(_ header: NetworkHeader, exits: ExitSet, allowlist: ExitSet?) -> Decision {
        // One lookup site per set and family (the destination's second lookup only with
        // `both`), so the inlined lookups stay few in the worker's loop.
        let destinationFirst = match == .destination
        switch header {
        case .ipv4(let source, let destination):
            if let allowlist, allowlist.contains(ipv4: source) || allowlist.contains(ipv4: destination) {
                return .allowlisted
            }
            if exits.contains(ipv4: destinationFirst ? destination : source) {
                return destinationFirst ? .listedDestination : .listedSource
            }
            if match == .both && exits.contains(ipv4: destination) { return .listedDestination }
            return .accept
        case .ipv6(let source, let destination):
            if let allowlist,
                allowlist.contains(ipv6High: source.high, ipv6Low: source.low)
                    || allowlist.contains(ipv6High: destination.high, ipv6Low: destination.low)
            {
                return .allowlisted
            }
            let first = destinationFirst ? destination : source
            if exits.contains(ipv6High: first.high, ipv6Low: first.low) {
                return destinationFirst ? .listedDestination : .listedSource
            }
            if match == .both && exits.contains(ipv6High: destination.high, ipv6Low: destination.low) {
                return .listedDestination
            }
            return .accept
        case .unparsable(let reason):
            return .unparsable(reason)
        }
    }

    /// The verdict enforcing mode gives `decision`, dry-run or not. `mark` is the packet's
    /// mark: a listed packet that already carries the reject mark was marked once and queued
    /// again (a queue rule after the mark, no REJECT rule catching it), so it is dropped
    /// instead of being sent round again.
    @inline(__always)
    func enforcedVerdict(for decision: Decision, mark: UInt32) -> Verdict {
        switch decision {
        case .accept, .allowlisted, .outsidePolicy:
            return .accept
        case .listedSource, .listedDestination:
            switch action {
            case .drop: return .drop
            case .reject(let value, let mask):
                return mark & mask == value ? .drop : .acceptMarked(mark: (mark & ~mask) | value)
            }
        case .unparsable:
            return unparsableVerdict
        }
    }

    /// Whether a listed packet came back carrying the reject mark: the packet was marked, no
    /// REJECT rule matched the mark, and a queue rule queued it again. Such a packet is
    /// dropped (see `enforcedVerdict`) and counted, since the rules are incomplete. Never in
    /// dry-run, which marks nothing.
    @inline(__always)
    func cameBack(_ decision: Decision, mark: UInt32) -> Bool {
        guard !dryRun, case .reject(let value, let mask) = action, decision.isListed else { return false }
        return mark & mask == value
    }

    /// Parses a mark with an optional mask, `VALUE[/MASK]` as iptables' `--mark` takes it:
    /// each decimal or `0x` hexadecimal; the mask defaults to 0xffffffff. Nil unless the value
    /// is not 0 and has no bit outside the mask.
    public static func parseMarkMask(_ text: String) -> (value: UInt32, mask: UInt32)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let value = parseMark(String(parts[0])) else { return nil }
        guard parts.count == 2 else { return (value, 0xffff_ffff) }
        guard let mask = parseMark(String(parts[1])), value & ~mask == 0 else { return nil }
        return (value, mask)
    }

    /// Parses a packet mark: decimal or `0x` hexadecimal, 1 to 0xffffffff (0 would match
    /// every unmarked packet). Nil for anything else.
    public static func parseMark(_ text: String) -> UInt32? {
        let value: UInt32?
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            value = UInt32(text.dropFirst(2), radix: 16)
        } else {
            value = UInt32(text, radix: 10)
        }
        guard let value, value != 0 else { return nil }
        return value
    }

    /// One line for logs: "match source, drop", "match both, reject (mark 0x4542), dry-run".
    public var summary: String {
        var text = "match \(match.rawValue), "
        switch action {
        case .drop: text += "drop"
        case .reject(let mark, let mask): text += "reject (mark \(PacketMark.text(mark, mask: mask)))"
        }
        if exitPolicy { text += ", exit policies" }
        if relayPorts { text += ", relay ports" }
        if dryRun { text += ", dry-run (accepting everything)" }
        return text
    }
}

extension CounterValues {
    /// Counts one packet from its judgement: its decision, the verdict sent, the verdict
    /// enforcing mode would have sent (equal unless dry-run), and whether it came back with
    /// the reject mark. Kept apart from the policy.
    @inline(__always)
    mutating func count(_ header: NetworkHeader, _ judgement: Judgement) {
        let family = PacketFamily(header)
        let decision = judgement.decision
        let verdict = judgement.verdict
        let enforced = judgement.enforced
        var dropped: UInt64 = 0
        var rejected: UInt64 = 0
        switch verdict {
        case .accept: break
        case .drop: dropped = 1
        case .repeat, .acceptMarked: rejected = 1
        }
        values[Counter.packets.slot(family)] &+= 1
        values[Counter.dropped.slot(family)] &+= dropped
        values[Counter.rejected.slot(family)] &+= rejected
        values[Counter.allowlisted.slot(family)] &+= decision == .allowlisted ? 1 : 0
        values[Counter.wouldDrop.slot(family)] &+= verdict == .accept && enforced != .accept ? 1 : 0
        values[Counter.accepted.slot] &+= 1 &- dropped &- rejected
        values[Counter.rejectReturned.slot] &+= judgement.returned ? 1 : 0
        values[Counter.outsidePolicy.slot] &+= decision == .outsidePolicy ? 1 : 0
        values[Counter.policyPortsUnread.slot] &+= judgement.portsUnread ? 1 : 0
    }
}
