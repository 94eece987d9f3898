/// The answer given to the kernel for one queued packet.
public enum Verdict: Sendable, Hashable {
    /// NF_ACCEPT: the packet continues through the ruleset.
    case accept
    /// NF_DROP: the packet is discarded.
    case drop
    /// NF_REPEAT with a packet mark: the packet re-enters the hook with the mark set, so a
    /// rule matching the mark can REJECT it (and the rule queueing it must skip marked packets).
    case `repeat`(mark: UInt32)
    /// NF_ACCEPT with a packet mark: the packet continues with the next table (or base chain)
    /// at the hook carrying the mark, so a later rule matching it can REJECT it. Unlike
    /// NF_REPEAT, nothing already passed runs again.
    case acceptMarked(mark: UInt32)

    /// The kernel's verdict code (`NF_DROP` 0, `NF_ACCEPT` 1 (also with a mark), `NF_REPEAT` 4).
    public var code: UInt32 {
        switch self {
        case .drop: return 0
        case .accept, .acceptMarked: return 1
        case .repeat: return 4
        }
    }

    /// The mark sent with the verdict, if any.
    public var mark: UInt32? {
        switch self {
        case .repeat(let mark), .acceptMarked(let mark): return mark
        case .accept, .drop: return nil
        }
    }
}
