/// Collects what a format parser finds: entries, refused lines (the first
/// `ParsedList.rejectedLimit` kept, all counted), and whether the document had any content.
struct ListAccumulator {
    let format: ListFormat
    var entries: [IPPrefix] = []
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
        return ParsedList(format: format, entries: entries, rejected: rejected, rejectedCount: rejectedCount)
    }
}
