import ExitSet
import Synchronization

/// The entries each list source contributed to the union set last built, for explaining a
/// decision ("which source listed this address?") without touching the set the workers read.
///
/// The source refresher replaces the whole table each time it builds a set (just before that
/// set is published); readers take a short lock. Never on the packet path.
public final class SourceListings: Sendable {
    /// One source's part of the set: its distinct entries, sorted, and their port policies.
    public struct Listing: Sendable {
        public var source: String
        public var entries: [IPPrefix]
        public var policies: [IPPrefix: PortPolicy]

        public init(source: String, entries: [IPPrefix], policies: [IPPrefix: PortPolicy] = [:]) {
            self.source = source
            self.entries = entries
            self.policies = policies
        }

        /// Whether `entry` is one of this source's entries (binary search; entries sorted).
        public func holds(_ entry: IPPrefix) -> Bool {
            var low = 0
            var high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if entries[middle] < entry { low = middle + 1 } else { high = middle }
            }
            return low < entries.count && entries[low] == entry
        }
    }

    private let table = Mutex<[Listing]>([])

    public init() {}

    /// Replaces the table with the sources of the set just built.
    public func update(_ listings: [Listing]) {
        table.withLock { $0 = listings }
    }

    /// The sources, in configuration order.
    public var listings: [Listing] { table.withLock { $0 } }

    /// The sources holding `entry`, in configuration order.
    public func sources(holding entry: IPPrefix) -> [Listing] {
        listings.filter { $0.holds(entry) }
    }
}
