/// Collects what a format parser finds: entries, refused lines (the first
/// `ParsedList.rejectedLimit` kept, all counted), and whether the document had any content.
struct ListAccumulator {
    let format: ListFormat
    var entries: [IPPrefix] = []
    /// The port policy of each host entry that came with one (the union when several relays
    /// share the address); entries not here cover all ports.
    var policies: [IPPrefix: PortPolicy] = [:]
    /// The relays behind each entry (see `ParsedList.relays`).
    var relays: [IPPrefix: [RelayInfo]] = [:]
    /// Shares the policies between relays and addresses.
    var interner = PortPolicyInterner()
    var rejected: [ListEntryError] = []
    var rejectedCount = 0
    /// Whether a line other than blank or comment was seen.
    var sawContent = false

    init(format: ListFormat) {
        self.format = format
    }

    mutating func accept(_ prefix: IPPrefix) {
        entries.append(prefix)
    }

    /// Adds a host entry with the port policy a relay gives it for the address's family
    /// (`PortPolicy.all` when the relay gives none); an address already seen gets the union.
    mutating func accept(_ prefix: IPPrefix, policy: PortPolicy, relay nickname: String) {
        entries.append(prefix)
        relays[prefix, default: []].append(RelayInfo(nickname: nickname, policy: policy))
        if let known = policies[prefix] {
            policies[prefix] = interner.union(known, policy)
        } else {
            policies[prefix] = interner.intern(policy)
        }
    }

    /// Records a refused line; the reason is only built while under the limit.
    mutating func reject(line: Int, _ reason: @autoclosure () -> String) {
        rejectedCount += 1
        if rejected.count < ParsedList.rejectedLimit {
            rejected.append(ListEntryError(line: line, reason: reason()))
        }
    }

    /// The parsed list, or `.empty` / `.noValidEntry` when it has no entry.
    func finish() throws(ListError) -> ParsedList {
        guard !entries.isEmpty else {
            if rejectedCount == 0 && !sawContent { throw .empty }
            throw .noValidEntry(rejected: rejectedCount, firstError: rejected.first)
        }
        var list = ParsedList(format: format, entries: entries, rejected: rejected, rejectedCount: rejectedCount)
        list.policies = policies.filter { !$0.value.isAll }
        list.relays = relays
        return list
    }
}
