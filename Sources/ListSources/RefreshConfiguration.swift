import ExitSet

/// How `SourceRefresher` reads, refreshes, guards and caches the list sources. Built once from
/// the command line.
public struct RefreshConfiguration: Sendable {
    /// The sources, in `--list` order; the set is their union.
    public var sources: [ListSource]
    /// The format of every source; nil: detected per version.
    public var format: ListFormat?
    /// Seconds between two fetches of a URL source (`--refresh-interval`).
    public var refreshInterval: Double = 1800
    /// First retry of a URL source after a failure, in seconds; doubled on each further failure,
    /// never beyond `refreshInterval`.
    public var retryInterval: Double = 30
    /// Seconds between two looks (stat) at a file source.
    public var filePollInterval: Double = 2
    /// Overall deadline of one fetch, in seconds (`--fetch-timeout`).
    public var fetchTimeout: Double = 30
    /// The largest list accepted, in bytes, downloaded or read (`--max-list-bytes`).
    public var maximumBytes: Int = 64 << 20
    /// Where the last good version of each source is kept; nil: no disk cache.
    public var stateDirectory: String? = "/var/lib/exitblock"
    /// The checks each new version must pass.
    public var guards: ListGuard = ListGuard()
    /// Seconds after which the version in force of a URL source is reported stale
    /// (`--max-source-age`; 0: never). Stale versions stay in force. File sources are never
    /// stale: a file that does not change is the operator's choice.
    public var maxSourceAge: Double = RefreshConfiguration.defaultMaxSourceAge
    /// Where each set built is explained from (which source gave which entry); nil: nowhere.
    public var listings: SourceListings?

    /// Four hours: eight refresh intervals of 30 minutes.
    public static let defaultMaxSourceAge: Double = 4 * 3600

    public init(sources: [ListSource], format: ListFormat? = nil) {
        self.sources = sources
        self.format = format
    }

    /// The delay before the next attempt after `failures` failures in a row (0: the interval).
    public func delay(afterFailures failures: Int) -> Double {
        guard failures > 0 else { return refreshInterval }
        let backoff = retryInterval * Double(1 << min(failures - 1, 20))
        return min(refreshInterval, backoff)
    }
}
