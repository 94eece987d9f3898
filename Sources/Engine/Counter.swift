import NetfilterQueue

/// The figures each queue worker counts.
///
/// The first five are kept per `PacketFamily` (one value, three slots: IPv4, IPv6,
/// unparsable); their total is the sum. The raw value orders the counters in storage: see
/// `slot(_:)` and `slot`.
public enum Counter: Int, CaseIterable, Sendable, CustomStringConvertible {
    // Per family: keep these five first and together (`isPerFamily`, `slot(_:)`).
    /// Packets given a verdict: accepted + dropped + rejected. Its unparsable slot counts the
    /// packets whose network header could not be read (they get the default verdict).
    case packets
    /// Packets answered DROP.
    case dropped
    /// Packets answered NF_ACCEPT with the reject mark set (`--reject`), for a REJECT rule.
    case rejected
    /// Packets accepted because their source or destination is in the allowlist.
    case allowlisted
    /// Packets accepted in dry-run that enforcing mode would have dropped or rejected.
    case wouldDrop

    /// Packets answered ACCEPT (in dry-run: every packet).
    case accepted
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
    /// Times the queue was bound again after its binding was lost (see `QueueFault`).
    case rebinds
    /// Attempts to bind the queue again that failed (for example EBUSY: another process holds it).
    case rebindFailures

    /// Stable snake_case key, used in `key=value` output, the `/stats` counters and metric names.
    public var description: String {
        switch self {
        case .packets: return "packets"
        case .dropped: return "dropped"
        case .rejected: return "rejected"
        case .allowlisted: return "allowlisted"
        case .wouldDrop: return "would_drop"
        case .accepted: return "accepted"
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
        case .rebinds: return "rebinds"
        case .rebindFailures: return "rebind_failures"
        }
    }

    /// The key of one family's value in `key=value` output and the `/stats` counters: "ipv4",
    /// "ipv6" and "unparsable" for `packets`, "ipv4_dropped" and the like for the others.
    /// Nil for a plain counter, and for the unparsable share of the others (which the total
    /// less IPv4 and IPv6 gives).
    public func key(_ family: PacketFamily) -> String? {
        guard isPerFamily else { return nil }
        if self == .packets { return family.description }
        return family == .unparsable ? nil : "\(family)_\(self)"
    }

    /// Whether the counter is kept per `PacketFamily`.
    @inline(__always)
    public var isPerFamily: Bool { rawValue <= Counter.wouldDrop.rawValue }

    /// The storage slot of a per-family counter's value for `family`. Cost: one add (the counter
    /// is a constant on the hot path, so its part folds).
    @inline(__always)
    func slot(_ family: PacketFamily) -> Int {
        rawValue &* Self.familyCount &+ family.rawValue
    }

    /// The storage slot of a plain counter (after the per-family counters' slots); a constant.
    @inline(__always)
    var slot: Int {
        rawValue &+ (Counter.wouldDrop.rawValue &+ 1) &* (Self.familyCount &- 1)
    }

    @inline(__always)
    static var familyCount: Int { PacketFamily.unparsable.rawValue &+ 1 }

    /// Slots of the counter storage: one per plain counter, one per family of the others.
    public static var slotCount: Int {
        allCases.reduce(0) { $0 + ($1.isPerFamily ? PacketFamily.allCases.count : 1) }
    }
}

/// Storage of one value per counter slot. InlineArray's count must be a literal, so this is
/// the one place the number is written; `Counter.slotCount` derives it from `allCases`, and
/// `WorkerCounters.init` and a test check that the two agree.
@usableFromInline typealias CounterSlots<Element: ~Copyable> = InlineArray<38, Element>

/// A set of counter values: one worker's over a burst, or a sum over workers.
public struct CounterValues: Sendable, Equatable, CustomStringConvertible {
    @usableFromInline var values = CounterSlots<UInt64>(repeating: 0)

    public init() {}

    /// A counter's value; for a per-family counter, the sum over the families. Setting it is
    /// for plain counters only (set a per-family counter by family).
    public subscript(counter: Counter) -> UInt64 {
        @inline(__always) get {
            guard counter.isPerFamily else { return values[counter.slot] }
            return values[counter.slot(.ipv4)] &+ values[counter.slot(.ipv6)] &+ values[counter.slot(.unparsable)]
        }
        @inline(__always) set {
            precondition(!counter.isPerFamily, "\(counter) is counted per family")
            values[counter.slot] = newValue
        }
    }

    /// One family's value of a per-family counter.
    public subscript(counter: Counter, family: PacketFamily) -> UInt64 {
        @inline(__always) get { values[counter.slot(family)] }
        @inline(__always) set { values[counter.slot(family)] = newValue }
    }

    /// The burst counts by size class, read from the seven `bursts…` counters.
    public var burstSizes: BurstSizeCounts {
        BurstSizeCounts(counts: (0..<BurstSizeCounts.bucketCount).map { values[Counter.bursts1.slot + $0] })
    }

    /// Every value by its key, the `/stats` counters: each counter's total by its description,
    /// and the families of the per-family counters by `Counter.key(_:)`.
    public var keyed: [String: UInt64] {
        var keyed: [String: UInt64] = [:]
        for counter in Counter.allCases {
            keyed[counter.description] = self[counter]
            for family in PacketFamily.allCases {
                if let key = counter.key(family) { keyed[key] = self[counter, family] }
            }
        }
        return keyed
    }

    /// The values `keyed` gives (absent keys are 0); a family without a key of its own gets
    /// the total less the other families.
    public init(keyed: [String: UInt64]) {
        for counter in Counter.allCases {
            guard counter.isPerFamily else {
                values[counter.slot] = keyed[counter.description] ?? 0
                continue
            }
            var rest = keyed[counter.description] ?? 0
            for family in PacketFamily.allCases {
                guard let key = counter.key(family) else { continue }
                self[counter, family] = keyed[key] ?? 0
                rest &-= self[counter, family]
            }
            for family in PacketFamily.allCases where counter.key(family) == nil {
                self[counter, family] = rest
            }
        }
    }

    public static func == (lhs: CounterValues, rhs: CounterValues) -> Bool {
        lhs.values.indices.allSatisfy { lhs.values[$0] == rhs.values[$0] }
    }

    public static func + (lhs: CounterValues, rhs: CounterValues) -> CounterValues {
        var sum = lhs
        for index in sum.values.indices { sum.values[index] &+= rhs.values[index] }
        return sum
    }

    /// The verdict figures as `key=value` pairs, the format of `exitblock run`'s final lines.
    public var description: String {
        let keys: [(Counter, PacketFamily?)] = [
            (.packets, nil), (.accepted, nil), (.dropped, nil), (.packets, .unparsable), (.packets, .ipv4),
            (.packets, .ipv6), (.dropped, .ipv4), (.dropped, .ipv6), (.allowlisted, nil), (.rejected, nil),
            (.wouldDrop, nil), (.outsidePolicy, nil),
        ]
        return keys.map { counter, family in
            guard let family else { return "\(counter)=\(self[counter])" }
            return "\(counter.key(family) ?? counter.description)=\(self[counter, family])"
        }.joined(separator: " ")
    }
}

/// The address family of a queued packet, as the counters split it: IPv4, IPv6, or a packet
/// whose network header could not be read. The raw value indexes a per-family counter's slots.
public enum PacketFamily: Int, CaseIterable, Sendable, CustomStringConvertible {
    case ipv4
    case ipv6
    case unparsable

    /// The family of a packet's header. Cost: one switch.
    @inline(__always)
    public init(_ header: NetworkHeader) {
        switch header {
        case .ipv4: self = .ipv4
        case .ipv6: self = .ipv6
        case .unparsable: self = .unparsable
        }
    }

    /// The `family` label value: "ipv4", "ipv6" or "unparsable".
    public var description: String {
        switch self {
        case .ipv4: return "ipv4"
        case .ipv6: return "ipv6"
        case .unparsable: return "unparsable"
        }
    }
}
