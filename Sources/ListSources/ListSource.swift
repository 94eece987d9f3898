/// Where a list comes from: a file, or an http(s) URL. `--list` values become one of these.
public enum ListSource: Sendable, Hashable, CustomStringConvertible {
    case file(path: String)
    case url(String)

    /// A value starting with `http://` or `https://` (any case) is a URL; anything else a path.
    public init(_ text: String) {
        let lower = text.lowercased()
        self = lower.hasPrefix("http://") || lower.hasPrefix("https://") ? .url(text) : .file(path: text)
    }

    /// The text the operator gave: the path or the URL. Also the `source` label of the metrics
    /// and the key of the source's disk cache.
    public var name: String {
        switch self {
        case .file(let path): return path
        case .url(let url): return url
        }
    }

    /// `file` or `url`.
    public var kind: String {
        if case .url = self { return "url" }
        return "file"
    }

    public var isURL: Bool {
        if case .url = self { return true }
        return false
    }

    public var description: String { name }
}
