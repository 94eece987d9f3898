import ExitSet
import NetfilterQueue

/// What the policy decided for one packet, before it becomes a verdict.
public enum Decision: Sendable, Hashable {
    /// The address is not listed.
    case accept
    /// The address is listed.
    case drop
    /// The header could not be read; the packet gets the configured default verdict.
    case unparsable(UnparsableReason)
}

/// The verdict policy: a pure function of the packet's header, the exit set and the
/// configuration. No I/O, no counters, no allocation: testable without root or socket.
public struct Policy: Sendable, Equatable {
    /// The verdict for packets whose header cannot be read. Default: accept, so that a
    /// parse failure never blocks traffic that the operator did not ask to block.
    public var unparsableVerdict: Verdict

    public init(unparsableVerdict: Verdict = .accept) {
        self.unparsableVerdict = unparsableVerdict
    }

    /// Decides on a packet from its source address. Cost: one set lookup.
    @inline(__always)
    public func decide(_ header: NetworkHeader, in set: ExitSet) -> Decision {
        switch header {
        case .ipv4(let source, _):
            return set.contains(ipv4: source) ? .drop : .accept
        case .ipv6(let source, _):
            return set.contains(ipv6High: source.high, ipv6Low: source.low) ? .drop : .accept
        case .unparsable(let reason):
            return .unparsable(reason)
        }
    }

    /// The verdict that carries out `decision`.
    @inline(__always)
    public func verdict(for decision: Decision) -> Verdict {
        switch decision {
        case .accept: return .accept
        case .drop: return .drop
        case .unparsable: return unparsableVerdict
        }
    }

    /// `decide` then `verdict`: the whole policy for one packet.
    @inline(__always)
    public func verdict(for packet: QueuedPacket, in set: ExitSet) -> Verdict {
        verdict(for: decide(packet.header, in: set))
    }
}

extension CounterValues {
    /// Counts one packet's decision and final verdict. Kept apart from the policy.
    @inline(__always)
    mutating func count(_ header: NetworkHeader, _ decision: Decision, _ verdict: Verdict) {
        values[Counter.packets.rawValue] &+= 1
        let dropped: UInt64 = verdict == .accept ? 0 : 1
        values[Counter.dropped.rawValue] &+= dropped
        values[Counter.accepted.rawValue] &+= 1 &- dropped
        switch header {
        case .ipv4:
            values[Counter.ipv4Packets.rawValue] &+= 1
            values[Counter.ipv4Dropped.rawValue] &+= dropped
        case .ipv6:
            values[Counter.ipv6Packets.rawValue] &+= 1
            values[Counter.ipv6Dropped.rawValue] &+= dropped
        case .unparsable:
            values[Counter.unparsable.rawValue] &+= 1
        }
    }
}
