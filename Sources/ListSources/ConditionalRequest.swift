/// The validators of the version of a URL source in force: its `ETag` and `Last-Modified`, sent
/// back as `If-None-Match` / `If-Modified-Since` so an unchanged list costs a 304 and no body.
/// Kept with the disk cache, so conditional requests survive a restart.
///
/// The validators follow the version in force, not the last answer: a version that is refused
/// does not update them, so the next request fetches the full body again (and is judged again)
/// instead of being told "not modified" about a version that was never accepted.
public struct ConditionalRequest: Sendable, Equatable, Codable {
    public var etag: String?
    public var lastModified: String?

    public init(etag: String? = nil, lastModified: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
    }

    /// The validators a response carries (header names matched without regard to case;
    /// empty values ignored).
    public init(responseHeaders: some Sequence<(String, String)>) {
        for (name, value) in responseHeaders {
            let trimmed = value.trimmingSpaces()
            guard !trimmed.isEmpty else { continue }
            switch name.lowercased() {
            case "etag": etag = trimmed
            case "last-modified": lastModified = trimmed
            default: break
            }
        }
    }

    /// True when there is nothing to send: the request is unconditional.
    public var isEmpty: Bool { etag == nil && lastModified == nil }

    /// The request header fields: `If-None-Match` and/or `If-Modified-Since`.
    public var requestHeaders: [(String, String)] {
        var headers: [(String, String)] = []
        if let etag { headers.append(("If-None-Match", etag)) }
        if let lastModified { headers.append(("If-Modified-Since", lastModified)) }
        return headers
    }

    /// After a 304: a server may send fresh validators with it (RFC 9110 §15.4.5); those it
    /// sends replace ours, those it leaves out stay.
    public func updated(byNotModified response: ConditionalRequest) -> ConditionalRequest {
        ConditionalRequest(etag: response.etag ?? etag, lastModified: response.lastModified ?? lastModified)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
