import Conntrack
import ExitSet
import Rules
import Synchronization

/// Flow mode's answer to a growing set. In flow mode only the first packet of a connection
/// is judged; a connection accepted before its address was listed would run on. After each
/// publish, this dumps the conntrack table (IPv4 and IPv6), picks the entries whose address
/// is listed in the new set but not in the old one, and deletes them, so the next packet of
/// each such flow creates a new entry, is queued as ct state NEW, and is judged (dropped)
/// with the new set.
///
/// Which address: the original direction's source for `.source`, its destination for
/// `.destination`, either for `.both` (the direction the policy judges by).
///
/// Runs on the publisher's thread after the new set is in force, never on a worker. An
/// entry created before the publish is in the dump; one created after was judged with the
/// new set already, so publish-then-dump leaves no gap.
public final class ConntrackInvalidator: Sendable {
    /// Totals since start, for the metrics.
    public struct Figures: Sendable, Equatable, Codable {
        /// Runs that dumped the table (publishes where the set grew).
        public var invalidations: UInt64 = 0
        /// Entries deleted.
        public var deleted: UInt64 = 0
        /// Entries that were gone by the time they were deleted.
        public var alreadyGone: UInt64 = 0
        /// Runs that failed (socket, permission, dump) plus deletions the kernel refused.
        public var errors: UInt64 = 0
        /// Entries deleted by the last run.
        public var lastDeleted: UInt64 = 0
        /// Seconds the last run took (dump, filter, delete).
        public var lastSeconds: Double = 0

        public init() {}
    }

    /// What one call did.
    public struct Outcome: Sendable, Equatable {
        /// The set did not grow: no dump was made.
        public var skipped = false
        public var examined = 0
        public var matched = 0
        public var deleted = 0
        public var alreadyGone = 0
        public var failed = 0
        public var nanoseconds: UInt64 = 0
        /// Why the run stopped, if it failed.
        public var error: String?

        public init() {}
    }

    public let direction: MatchDirection
    private let totals = Mutex(Figures())
    private let log: @Sendable (String) -> Void

    public init(direction: MatchDirection, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.direction = direction
        self.log = log
    }

    /// The totals now (a short lock).
    public var figures: Figures { totals.withLock { $0 } }

    /// Opens a ctnetlink socket once, so a missing permission shows at start; nil when fine.
    public func probe() -> (any Error)? {
        do {
            _ = try ConntrackTable().entries(family: .ipv4) { _ in false }
            return nil
        } catch {
            return error
        }
    }

    /// Deletes the entries of addresses `new` lists and `old` does not; logs one line that
    /// starts with `reason` ("set grew" after a publish, "start" for the set loaded at start,
    /// compared against the empty set: flows accepted while exitblock was not running).
    @discardableResult
    public func invalidate(old: ExitSet, new: ExitSet, reason: String = "set grew") -> Outcome {
        let start = monotonicNanoseconds()
        var outcome = Outcome()
        guard Self.grew(from: old, to: new) else {
            outcome.skipped = true
            log("conntrack: no newly listed address; no entry to delete")
            return outcome
        }
        do {
            let table = try ConntrackTable()
            for family in ConntrackFamily.allCases {
                // A dump the kernel flags as interrupted may have missed entries: walk again.
                for _ in 0..<3 {
                    let dump = try table.entries(family: family) {
                        Self.shouldDelete($0, old: old, new: new, direction: direction)
                    }
                    outcome.examined += dump.examined
                    outcome.matched += dump.entries.count
                    let deletion = try table.delete(dump.entries)
                    outcome.deleted += deletion.deleted
                    outcome.alreadyGone += deletion.alreadyGone
                    outcome.failed += deletion.failed
                    if let error = deletion.lastError { outcome.error = "deletion refused: \(error)" }
                    if !dump.interrupted { break }
                }
            }
        } catch {
            outcome.error = "\(error)"
        }
        outcome.nanoseconds = monotonicNanoseconds() &- start
        let failedRun = outcome.error != nil && outcome.failed == 0
        totals.withLock { totals in
            totals.invalidations &+= 1
            totals.deleted &+= UInt64(outcome.deleted)
            totals.alreadyGone &+= UInt64(outcome.alreadyGone)
            totals.errors &+= UInt64(outcome.failed) &+ (failedRun ? 1 : 0)
            totals.lastDeleted = UInt64(outcome.deleted)
            totals.lastSeconds = Double(outcome.nanoseconds) / 1e9
        }
        var line =
            "conntrack: \(reason); deleted \(outcome.deleted) entries of newly listed addresses "
            + "(\(outcome.examined) examined, \(outcome.matched) matched, \(outcome.alreadyGone) already gone, "
            + "\(outcome.failed) refused) in \(Self.milliseconds(outcome.nanoseconds)) ms"
        if let error = outcome.error { line += "; \(error)" }
        log(line)
        return outcome
    }

    /// Whether `new` lists an address that `old` does not (some entry of `new` is not
    /// covered by one of `old`). Cost: one lookup per host entry, up to 129 binary searches
    /// per prefix entry.
    public static func grew(from old: ExitSet, to new: ExitSet) -> Bool {
        if old === new { return false }
        for prefix in new.entries {
            if prefix.isHost {
                if !old.contains(prefix.address) { return true }
            } else if let covering = old.match(prefix.address), covering.length <= prefix.length {
                continue
            } else {
                return true
            }
        }
        return false
    }

    /// Whether `address` is listed in `new` and not in `old`.
    public static func isNewlyListed(_ address: ConntrackAddress, old: ExitSet, new: ExitSet) -> Bool {
        switch address {
        case .v4(let value):
            return new.contains(ipv4: value) && !old.contains(ipv4: value)
        case .v6(let high, let low):
            return new.contains(ipv6High: high, ipv6Low: low) && !old.contains(ipv6High: high, ipv6Low: low)
        }
    }

    /// Whether `entry` belongs to a newly listed address, looked at in `direction`.
    public static func shouldDelete(
        _ entry: ConntrackEntry,
        old: ExitSet,
        new: ExitSet,
        direction: MatchDirection
    ) -> Bool {
        switch direction {
        case .source:
            return isNewlyListed(entry.source, old: old, new: new)
        case .destination:
            return isNewlyListed(entry.destination, old: old, new: new)
        case .both:
            return isNewlyListed(entry.source, old: old, new: new)
                || isNewlyListed(entry.destination, old: old, new: new)
        }
    }

    private static func milliseconds(_ nanoseconds: UInt64) -> String {
        let tenths = (nanoseconds + 50_000) / 100_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}
