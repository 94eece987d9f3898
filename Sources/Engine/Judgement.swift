import NetfilterQueue

/// What the policy makes of one packet (`Policy.judge`): the decision, the verdict to send,
/// and what the counters need to know. The worker sends `verdict` and counts the rest; it
/// combines nothing itself. A plain value, built without allocation.
public struct Judgement: Sendable, Hashable {
    /// What the policy found.
    public var decision: Decision
    /// The verdict sent: ACCEPT in dry-run, else `enforced`.
    public var verdict: Verdict
    /// The verdict enforcing mode gives (in dry-run, what would have been sent).
    public var enforced: Verdict
    /// The judged address goes to a verdict cache: a listed one to the drop cache, one
    /// accepted because it is not listed to the accept cache (see `Policy.cachesDrop`,
    /// `Policy.cachesAccept`). The worker hands it to the cache writer; the verdict is unchanged.
    public var cached: Bool
    /// A listed packet came back carrying the reject mark: no REJECT rule caught it and a
    /// queue rule queued it again (see `Policy.cameBack`). It is dropped and counted.
    public var returned: Bool
    /// Ports take part in the decision, but this listed packet's were not in the copied bytes:
    /// it was judged on its address alone.
    public var portsUnread: Bool

    public init(
        decision: Decision,
        verdict: Verdict,
        enforced: Verdict? = nil,
        cached: Bool = false,
        returned: Bool = false,
        portsUnread: Bool = false
    ) {
        self.decision = decision
        self.verdict = verdict
        self.enforced = enforced ?? verdict
        self.cached = cached
        self.returned = returned
        self.portsUnread = portsUnread
    }
}
