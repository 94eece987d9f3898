/// The result of `ListParser.parse`: the entries of a list and the lines it refused.
public struct ParsedList: Sendable {
    /// The format the list was read as.
    public var format: ListFormat
    /// The entries in document order; may hold duplicates (`ExitSet` drops them).
    public var entries: [IPPrefix]
    /// The port policy of each host entry that has one other than all ports (consensus `p`
    /// lines, Onionoo summaries), shared between entries; an entry not here covers all ports.
    public var policies: [IPPrefix: PortPolicy] = [:]
    /// The relays behind each host entry of a consensus or Onionoo list (nickname and the
    /// policy each gave), for diagnostics; empty for other formats.
    public var relays: [IPPrefix: [RelayInfo]] = [:]
    /// The refused lines, in document order; at most `rejectedLimit` of them are kept.
    public var rejected: [ListEntryError]
    /// How many lines were refused in all; more than `rejected.count` only past
    /// `rejectedLimit`. (An addition to keep a hostile list from costing memory per bad line.)
    public var rejectedCount: Int

    /// The most refused lines kept in `rejected`.
    public static let rejectedLimit = 10_000

    public init(format: ListFormat, entries: [IPPrefix], rejected: [ListEntryError], rejectedCount: Int? = nil) {
        self.format = format
        self.entries = entries
        self.rejected = rejected
        self.rejectedCount = rejectedCount ?? rejected.count
    }

    /// The number of distinct IPv4 entries. Cost: hashes every entry.
    public var ipv4Count: Int {
        Set(entries.lazy.filter { if case .v4 = $0.address { true } else { false } }).count
    }

    /// The number of distinct IPv6 entries. Cost: hashes every entry.
    public var ipv6Count: Int {
        Set(entries.lazy.filter { if case .v6 = $0.address { true } else { false } }).count
    }
}
