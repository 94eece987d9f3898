/// The figures each queue worker counts. The raw value indexes the counter arrays.
public enum Counter: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Packets given a verdict: accepted + dropped + rejected.
    case packets
    /// Packets answered ACCEPT (in dry-run: every packet).
    case accepted
    /// Packets answered DROP.
    case dropped
    /// Packets whose network header could not be read (they get the default verdict).
    case unparsable
    case ipv4Packets
    case ipv6Packets
    case ipv4Dropped
    case ipv6Dropped
    /// Packets answered NF_ACCEPT with the reject mark set (`--reject`), for a REJECT rule.
    case rejected
    case ipv4Rejected
    case ipv6Rejected
    /// Packets accepted because their source or destination is in the allowlist.
    case allowlisted
    case ipv4Allowlisted
    case ipv6Allowlisted
    /// Packets accepted in dry-run that enforcing mode would have dropped or rejected.
    case wouldDrop
    case ipv4WouldDrop
    case ipv6WouldDrop
    /// Listed packets that came back carrying the reject mark (no REJECT rule matched it
    /// before the queue rule); they are dropped.
    case rejectReturned
    /// Packets of a listed address accepted because its port policy leaves their port out
    /// (`--exit-policy`).
    case outsidePolicy
    /// Listed packets judged on the address alone under `--exit-policy` because their TCP or
    /// UDP ports were not inside the copied bytes (IPv4 options, IPv6 extension headers,
    /// later fragments).
    case policyPortsUnread
    /// Receive buffer overruns reported as ENOBUFS (never fatal).
    case enobufs
    /// Kernel error answers to verdict messages.
    case verdictErrors
    /// Failed `send` calls of verdicts.
    case sendErrors
    /// Verdict batches sent again after a transient send failure.
    case verdictResends
    /// Packets answered one by one because their verdict batch could not be sent.
    case singleVerdicts
    /// Packets whose verdict could not be sent yet, carried to the next send.
    case deferredVerdicts
    /// Failed receive calls other than ENOBUFS.
    case receiveErrors
    /// Netlink messages that could not be walked, or packet messages without an id.
    case malformedMessages
    /// Datagrams larger than their receive slot.
    case truncatedDatagrams
    /// Packets that did not fit the burst.
    case overflow
    /// Bursts by size class (see `BurstSizeCounts`): 1, 2-3, 4-7, 8-15, 16-31, 32-63, 64+ packets.
    /// Keep these seven consecutive and in this order: the worker indexes them by size class.
    case bursts1
    case bursts2To3
    case bursts4To7
    case bursts8To15
    case bursts16To31
    case bursts32To63
    case bursts64Plus

    /// Stable snake_case key, used in `key=value` output and metric names.
    public var description: String {
        switch self {
        case .packets: return "packets"
        case .accepted: return "accepted"
        case .dropped: return "dropped"
        case .unparsable: return "unparsable"
        case .ipv4Packets: return "ipv4"
        case .ipv6Packets: return "ipv6"
        case .ipv4Dropped: return "ipv4_dropped"
        case .ipv6Dropped: return "ipv6_dropped"
        case .rejected: return "rejected"
        case .ipv4Rejected: return "ipv4_rejected"
        case .ipv6Rejected: return "ipv6_rejected"
        case .allowlisted: return "allowlisted"
        case .ipv4Allowlisted: return "ipv4_allowlisted"
        case .ipv6Allowlisted: return "ipv6_allowlisted"
        case .wouldDrop: return "would_drop"
        case .ipv4WouldDrop: return "ipv4_would_drop"
        case .ipv6WouldDrop: return "ipv6_would_drop"
        case .rejectReturned: return "reject_returned"
        case .outsidePolicy: return "outside_policy"
        case .policyPortsUnread: return "policy_ports_unread"
        case .enobufs: return "enobufs"
        case .verdictErrors: return "verdict_errors"
        case .sendErrors: return "send_errors"
        case .verdictResends: return "verdict_resends"
        case .singleVerdicts: return "single_verdicts"
        case .deferredVerdicts: return "deferred_verdicts"
        case .receiveErrors: return "receive_errors"
        case .malformedMessages: return "malformed_messages"
        case .truncatedDatagrams: return "truncated_datagrams"
        case .overflow: return "overflow"
        case .bursts1: return "bursts_size_1"
        case .bursts2To3: return "bursts_size_2_3"
        case .bursts4To7: return "bursts_size_4_7"
        case .bursts8To15: return "bursts_size_8_15"
        case .bursts16To31: return "bursts_size_16_31"
        case .bursts32To63: return "bursts_size_32_63"
        case .bursts64Plus: return "bursts_size_64_plus"
        }
    }

    /// Storage size of the counter arrays; a test checks it equals `allCases.count`.
    public static let storageCount = 37
}

/// A set of counter values: one worker's over a burst, or a sum over workers.
public struct CounterValues: Sendable, Equatable, CustomStringConvertible {
    @usableFromInline var values = InlineArray<37, UInt64>(repeating: 0)

    public init() {}

    public subscript(counter: Counter) -> UInt64 {
        @inline(__always) get { values[counter.rawValue] }
        @inline(__always) set { values[counter.rawValue] = newValue }
    }

    /// The burst counts by size class, read from the seven `bursts…` counters.
    public var burstSizes: BurstSizeCounts {
        BurstSizeCounts(counts: (0..<BurstSizeCounts.bucketCount).map { values[Counter.bursts1.rawValue + $0] })
    }

    public static func == (lhs: CounterValues, rhs: CounterValues) -> Bool {
        Counter.allCases.allSatisfy { lhs[$0] == rhs[$0] }
    }

    public static func + (lhs: CounterValues, rhs: CounterValues) -> CounterValues {
        var sum = lhs
        for counter in Counter.allCases { sum[counter] &+= rhs[counter] }
        return sum
    }

    /// The verdict figures as `key=value` pairs, the format of `exitblock run`'s final lines.
    public var description: String {
        let keys: [Counter] = [
            .packets, .accepted, .dropped, .unparsable, .ipv4Packets, .ipv6Packets, .ipv4Dropped, .ipv6Dropped,
            .allowlisted, .rejected, .wouldDrop, .outsidePolicy,
        ]
        return keys.map { "\($0)=\(self[$0])" }.joined(separator: " ")
    }
}
