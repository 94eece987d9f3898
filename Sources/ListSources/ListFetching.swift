/// What a fetch of a URL source brought.
public enum FetchOutcome: Sendable, Equatable {
    /// 304: the version in force is current; the validators the answer carried.
    case notModified(ConditionalRequest)
    /// A complete 2xx body and its validators.
    case content([UInt8], ConditionalRequest)
}

/// Fetches URL sources. `HTTPListFetcher` is the real one; tests give the refresher their own.
public protocol ListFetching: Sendable {
    /// One GET of `url`, conditional on `conditional`'s validators.
    func fetch(_ url: String, conditional: ConditionalRequest) async throws(SourceError) -> FetchOutcome
    /// Releases connections and threads; no fetch may follow.
    func shutdown() async
}
