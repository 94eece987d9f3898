import ExitSet

/// A version of a source that passed the parser and the guards: what the source contributes
/// to the set.
struct GoodVersion: Sendable {
    /// Distinct entries, sorted.
    var entries: [IPPrefix]
    /// The port policies of entries that have one (see `ParsedList.policies`).
    var policies: [IPPrefix: PortPolicy]
    var ipv4Count: Int
    var ipv6Count: Int
    var format: ListFormat
    /// `SourceCache.checksum` of the bytes, to notice a byte-for-byte identical version.
    var checksum: String
    /// Unix time it was read, fetched, or last confirmed current.
    var confirmedAt: Double
    /// Taken from the disk cache at start and not confirmed since.
    var fromCache: Bool

    init(list: ParsedList, checksum: String, confirmedAt: Double, fromCache: Bool) {
        entries = GoodVersion.distinct(list.entries)
        policies = list.policies
        var ipv4 = 0
        for entry in entries {
            if case .v4 = entry.address { ipv4 += 1 }
        }
        ipv4Count = ipv4
        ipv6Count = entries.count - ipv4
        format = list.format
        self.checksum = checksum
        self.confirmedAt = confirmedAt
        self.fromCache = fromCache
    }

    /// Sorted, without duplicates.
    static func distinct(_ entries: [IPPrefix]) -> [IPPrefix] {
        var sorted = entries
        sorted.sort()
        var unique: [IPPrefix] = []
        unique.reserveCapacity(sorted.count)
        for entry in sorted where unique.last != entry { unique.append(entry) }
        return unique
    }

    /// Entries in `new` and not in `old`, and in `old` and not in `new` (both sorted, distinct).
    static func difference(from old: [IPPrefix], to new: [IPPrefix]) -> (added: Int, removed: Int) {
        var added = 0
        var removed = 0
        var i = 0
        var j = 0
        while i < old.count && j < new.count {
            if old[i] == new[j] {
                i += 1
                j += 1
            } else if old[i] < new[j] {
                removed += 1
                i += 1
            } else {
                added += 1
                j += 1
            }
        }
        return (added + new.count - j, removed + old.count - i)
    }
}

/// What the refresher knows about one source between passes.
struct SourceState: Sendable {
    let source: ListSource
    /// The version in force; nil when the source never gave one.
    var good: GoodVersion?
    /// The validators of the version in force (URL sources).
    var conditional = ConditionalRequest()
    /// The file as it was when last read (whatever came of it): a file is read again only
    /// when its signature changes, so a bad file is refused once, not every poll.
    var signature: FileSignature?
    /// A changed signature seen at the last poll: read only when it holds for one more poll,
    /// so a file caught in the middle of being written is not read.
    var pendingSignature: FileSignature?
    /// When the next fetch is due (URL sources) or the next stat (files).
    var due: ContinuousClock.Instant
    /// Failed attempts in a row.
    var failures = 0
    /// The last attempt's result and error, for the stats.
    var lastResult: SourceResult?
    var lastError: SourceError?
    var lastAttempt: Double = 0

    init(source: ListSource, due: ContinuousClock.Instant) {
        self.source = source
        self.due = due
    }
}

/// What one attempt brought, before it is judged against the state.
enum Attempt: Sendable {
    case notModified(ConditionalRequest)
    /// New bytes: their checksum, and the parse unless the bytes equal the version in force.
    case content(
        checksum: String,
        bytes: [UInt8],
        conditional: ConditionalRequest,
        parsed: Result<ParsedList, ListError>?
    )
    case failed(SourceError)
}
