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
    /// The engine's publish count when these sets were published: the verdict caches' writer
    /// throws away addresses judged with sets older than the last publish (see `CacheWriter`).
    public let generation: UInt64

    public init(exits: ExitSet, allowlist: ExitSet = .empty, generation: UInt64 = 0) {
        self.exits = exits
        self.allowlist = allowlist
        self.generation = generation
        activeAllowlist = allowlist.count == 0 ? nil : allowlist
    }
}
