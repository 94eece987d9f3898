/// One list source as reported (`SourceReporting`): its figures at the last successful load and the
/// last attempt's result.
public struct SourceStatus: Sendable, Equatable, Codable {
    public var path: String
    public var ipv4Entries: Int
    public var ipv6Entries: Int
    /// Unix time of the last load attempt.
    public var lastRefresh: Double
    /// Whether that attempt succeeded.
    public var lastRefreshOK: Bool
    /// Why it failed, empty when it did not.
    public var lastError: String
    /// `file` or `url`.
    public var kind: String = "file"
    /// The format of the version in force, empty when there is none.
    public var format: String = ""
    /// The last attempt's result (`SourceResult`: ok, not_modified, unchanged, refused,
    /// error), empty before the first attempt.
    public var lastResult: String = ""
    /// The last attempt's refusal reason, empty when it succeeded.
    public var lastReason: String = ""
    /// Unix time the version in force was read, fetched or last confirmed current (a 304
    /// confirms; from the cache: when it was fetched); 0 when there is none.
    public var lastSuccess: Double = 0
    /// The version in force came from the disk cache and has not been confirmed since.
    public var fromCache: Bool = false
    /// The source has a version in force.
    public var loaded: Bool = true
    /// Attempts so far, by result.
    public var results: [String: UInt64] = [:]
    /// Seconds the version in force may age before the source is reported stale
    /// (`--max-source-age`); 0: never.
    public var maxAge: Double = 0

    public init(
        path: String,
        ipv4Entries: Int,
        ipv6Entries: Int,
        lastRefresh: Double,
        lastRefreshOK: Bool,
        lastError: String = "",
        loaded: Bool = true
    ) {
        self.loaded = loaded
        self.path = path
        self.ipv4Entries = ipv4Entries
        self.ipv6Entries = ipv6Entries
        self.lastRefresh = lastRefresh
        self.lastRefreshOK = lastRefreshOK
        self.lastError = lastError
    }
}
