/// What the queue rules hand to exitblock, and so what a verdict decides.
public enum FilterMode: String, Sendable, Hashable, CaseIterable {
    /// Every matched packet is queued and judged (`-j NFQUEUE`).
    case packet
    /// Only the first packet of each connection is queued (`-m conntrack --ctstate NEW
    /// -j NFQUEUE`); the verdict decides the connection. When the set grows, the conntrack
    /// entries of newly listed addresses are deleted so those flows are judged again.
    case flow
}
