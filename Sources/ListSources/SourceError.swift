import ExitSet

/// Why a new version of a source was not taken: the fetch or read failed (`result` "error") or
/// what came was refused (`result` "refused"). Either way the previous version stays in force.
/// `reason` is the snake_case word of `exitblock_refusals_total`.
public enum SourceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file that cannot be read (missing, permission, a directory).
    case unreadable(String)
    /// More bytes than the limit (`--max-list-bytes`), announced or received.
    case tooLarge(limit: Int)
    /// A non-2xx answer (a 3xx only when redirects ran out).
    case httpStatus(Int)
    /// No complete answer within the connect/read timeouts or the overall deadline.
    case timeout(String)
    /// The connection closed before the announced Content-Length arrived.
    case truncated(expected: Int?, received: Int)
    /// No connection, or the exchange failed otherwise (name resolution, refused, reset, TLS).
    case connection(String)
    /// The bytes are not a list (empty, binary, malformed, no valid entry).
    case list(ListError)
    /// The guards refused the version.
    case guarded(ListGuard.Refusal)

    /// The snake_case reason.
    public var reason: String {
        switch self {
        case .unreadable: return "unreadable"
        case .tooLarge: return "too_large"
        case .httpStatus: return "http_status"
        case .timeout: return "timeout"
        case .truncated: return "truncated"
        case .connection: return "connection_failed"
        case .list(let error): return error.reason
        case .guarded(let refusal): return refusal.reason
        }
    }

    /// `error` when nothing usable came (the source could not be reached or read), `refused`
    /// when something came and was turned down.
    public var result: SourceResult {
        switch self {
        case .list, .guarded, .tooLarge: return .refused
        case .unreadable, .httpStatus, .timeout, .truncated, .connection: return .error
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let reason): return "cannot read: \(reason)"
        case .tooLarge(let limit): return "larger than the \(limit)-byte limit (--max-list-bytes)"
        case .httpStatus(let status): return "HTTP status \(status)"
        case .timeout(let what): return "timed out: \(what)"
        case .truncated(let expected, let received):
            if let expected { return "truncated: the connection closed after \(received) of \(expected) bytes" }
            return "truncated: the connection closed after \(received) bytes"
        case .connection(let reason): return "fetch failed: \(reason)"
        case .list(let error): return "\(error)"
        case .guarded(let refusal): return "refused by the guards: \(refusal)"
        }
    }
}

/// The result of one refresh attempt of a source (the `result` label of
/// `exitblock_source_fetches_total`).
public enum SourceResult: String, Sendable, CaseIterable, Codable {
    /// A new version was accepted.
    case ok
    /// The server answered 304: the version in force is current. Costs no parse, no rebuild.
    case notModified = "not_modified"
    /// Read or fetched again, byte for byte the version in force: no rebuild either.
    case unchanged
    /// Something came and was refused (unparsable, empty, guards, too large).
    case refused
    /// Nothing usable came (unreachable, timeout, non-2xx, truncated, unreadable file).
    case error
}
