import NetfilterQueue

/// What the policy makes of one packet (`Policy.judge`): the decision, the verdict to send,
/// and what the counters need to know. The worker sends `verdict` and counts the rest; it
/// combines nothing itself. A plain value, built without allocation.
public struct Judgement: Sendable, Hashable {
    /// What the policy found.
    public var decision: Decision
    /// The verdict sent: ACCEPT in dry-run, else `enforced`.
    public var verdict: Verdict
    /// The verdict enforcing mode gives (in dry-run, what would have been sent): for a listed
    /// packet whose address goes into the drop cache, the cache's marked ACCEPT.
    public var enforced: Verdict
    /// The listed address goes into the kernel's drop cache: `enforced` carries the cache mark.
    public var cached: Bool
    /// A listed packet came back carrying the reject mark: no REJECT rule caught it and a
    /// queue rule queued it again (see `Policy.cameBack`). It is dropped and counted.
    public var returned: Bool
    /// Ports take part in the decision, but this listed packet's were not in the copied bytes:
    /// it was judged on its address alone.
    public var portsUnread: Bool
    /// The verdict's mark stands for a drop (the drop cache's mark under the drop action: the
    /// filter rule drops the packet), so it is counted dropped, not rejected.
    public var markedForDrop: Bool

    public init(
        decision: Decision,
        verdict: Verdict,
        enforced: Verdict? = nil,
        cached: Bool = false,
        returned: Bool = false,
        portsUnread: Bool = false,
        markedForDrop: Bool = false
    ) {
        self.decision = decision
        self.verdict = verdict
        self.enforced = enforced ?? verdict
        self.cached = cached
        self.returned = returned
        self.portsUnread = portsUnread
        self.markedForDrop = markedForDrop
    }
}
