import ExitSet

/// What changes between two route sets: the routes to announce and the routes to withdraw,
/// each sorted. Routes in both are left alone (no re-announcement, no flap).
public struct RouteDelta: Sendable, Equatable {
    public var announce: [IPPrefix]
    public var withdraw: [IPPrefix]

    public init(announce: [IPPrefix] = [], withdraw: [IPPrefix] = []) {
        self.announce = announce
        self.withdraw = withdraw
    }

    /// The delta taking `old` to `new`.
    public init(from old: some Collection<IPPrefix>, to new: some Collection<IPPrefix>) {
        let before = Set(old)
        let after = Set(new)
        announce = after.subtracting(before).sorted()
        withdraw = before.subtracting(after).sorted()
    }

    public var isEmpty: Bool { announce.isEmpty && withdraw.isEmpty }
}
