import ExitSet

/// The sets the policy consults, published together so that a worker reads both with one
/// snapshot read per burst: the exit set and the allowlist. Immutable.
public final class PolicySets: Sendable {
    /// The listed addresses (what is blocked).
    public let exits: ExitSet
    /// Addresses whose traffic is always accepted, checked before `exits`.
    public let allowlist: ExitSet
    /// `allowlist`, or nil when it is empty, so the hot path skips it with one test.
    @usableFromInline let activeAllowlist: ExitSet?

    public init(exits: ExitSet, allowlist: ExitSet = .empty) {
        self.exits = exits
        self.allowlist = allowlist
        activeAllowlist = allowlist.count == 0 ? nil : allowlist
    }
}
