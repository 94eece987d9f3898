import ExitSet

/// The allowlist: addresses and prefixes whose traffic is always accepted, from `--allow`
/// values. A value that reads as an address or prefix (`198.51.100.7`, `2001:db8::/48`) is
/// taken inline; any other value is a list file, in any list format (detected), read like
/// the exit lists (`ListLoader.load`): a file that cannot be used is refused with its reason.
public struct Allowlist: Sendable {
    /// Where some entries came from: one `--allow` value.
    public struct Part: Sendable {
        /// The value as given (the address text, or the file path).
        public var value: String
        /// True when the value was an address or prefix, false for a file.
        public var isInline: Bool
        public var entries: [IPPrefix]
        /// The parsed file, nil for an inline value.
        public var list: LoadedList?
    }

    public let parts: [Part]
    /// The union of every part, ready for lookups.
    public let set: ExitSet

    /// No entry at all (no `--allow`).
    public static let empty = Allowlist(parts: [])

    init(parts: [Part]) {
        self.parts = parts
        set = parts.isEmpty ? .empty : ExitSet(parts.flatMap(\.entries))
    }

    /// Reads every value; throws for the first file that cannot be used.
    public static func load(_ values: [String]) throws(ListLoadError) -> Allowlist {
        var parts: [Part] = []
        for value in values {
            if let prefix = IPPrefix(value) {
                parts.append(Part(value: value, isInline: true, entries: [prefix], list: nil))
            } else {
                let loaded: LoadedList
                do {
                    loaded = try ListLoader.load(value)
                } catch .unreadable(let path, let reason) {
                    throw .unreadable(path: path, reason: "not an address or prefix, and as a file: \(reason)")
                }
                parts.append(Part(value: value, isInline: false, entries: loaded.list.entries, list: loaded))
            }
        }
        return Allowlist(parts: parts)
    }

    /// The most specific allowlist entry containing `address`, with the values it came from;
    /// nil when the address is not allowlisted. For diagnostics (`exitblock check`).
    public func match(_ address: IPAddress) -> (entry: IPPrefix, values: [String])? {
        guard let entry = set.match(address) else { return nil }
        return (entry, parts.filter { $0.entries.contains(entry) }.map(\.value))
    }

    /// "allowlist: 3 entries (2 IPv4, 1 IPv6) from 2 value(s)"
    public var summary: String {
        "allowlist: \(set.count) entries (\(set.ipv4Count) IPv4, \(set.ipv6Count) IPv6) from \(parts.count) value(s)"
    }
}
