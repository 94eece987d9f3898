/// Hands out one shared `PortPolicy` per distinct port set while a document is parsed, so
/// that relays with the same summary (and addresses with the same union) share one object.
/// Also remembers the policy of each summary text and of each union already computed, so a
/// consensus of thousands of relays parses a few hundred summaries.
struct PortPolicyInterner {
    private var byRanges: [[ClosedRange<UInt16>]: PortPolicy] = [
        PortPolicy.all.ranges: .all, PortPolicy.none.ranges: .none,
    ]
    private var bySummary: [[UInt8]: PortPolicy] = [:]
    private var unions: [PolicyPair: PortPolicy] = [:]

    private struct PolicyPair: Hashable {
        var first: ObjectIdentifier
        var second: ObjectIdentifier
    }

    /// The shared policy equal to `policy`.
    mutating func intern(_ policy: PortPolicy) -> PortPolicy {
        if let known = byRanges[policy.ranges] { return known }
        byRanges[policy.ranges] = policy
        return policy
    }

    /// The policy of a summary given as keyword and PortList, or nil when it breaks the
    /// grammar. The text is the cache key: a repeated summary costs one hash lookup.
    mutating func policy(keyword: UnsafeBufferPointer<UInt8>, portList: UnsafeBufferPointer<UInt8>) -> PortPolicy? {
        var key = Array(keyword)
        key.append(0x20)
        key.append(contentsOf: portList)
        if let known = bySummary[key] { return known }
        guard let parsed = PortPolicy.parse(keyword: keyword, portList: portList) else { return nil }
        let shared = intern(parsed)
        bySummary[key] = shared
        return shared
    }

    /// The shared union of two shared policies.
    mutating func union(_ first: PortPolicy, _ second: PortPolicy) -> PortPolicy {
        if first === second { return first }
        let pair = PolicyPair(first: ObjectIdentifier(first), second: ObjectIdentifier(second))
        if let known = unions[pair] { return known }
        let shared = intern(first.union(second))
        unions[pair] = shared
        return shared
    }

    /// Every distinct policy handed out.
    var count: Int { byRanges.count }
}
