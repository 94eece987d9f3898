/// Why a whole list was refused.
public enum ListError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No byte, or nothing but blank and comment lines.
    case empty
    /// Lines were read but none gave an entry: `rejected` lines were refused (0 when the
    /// document simply held no usable entry, e.g. a consensus without exit relays); the first
    /// refused line, if any, is `firstError`.
    case noValidEntry(rejected: Int, firstError: ListEntryError?)
    /// Not text: a NUL byte at `offset` (the first one), or, with no NUL, mostly control bytes
    /// and invalid UTF-8 in the first 4 KiB, `offset` being the first such byte.
    case binary(offset: Int)
    /// Line `line` is `length` bytes long, over `ListParser.maximumLineLength`.
    case lineTooLong(line: Int, length: Int)
    /// The document breaks the rules of its format at line `line` (e.g. a JSON syntax error,
    /// a consensus without any relay).
    case malformed(format: ListFormat, line: Int, reason: String)

    public var description: String {
        switch self {
        case .empty:
            return "the list is empty (no entries, only blank or comment lines)"
        case .noValidEntry(let rejected, let firstError):
            var text = "the list has no valid entry"
            if rejected > 0 { text += " (\(rejected) line\(rejected == 1 ? "" : "s") rejected)" }
            if let firstError { text += "; first: \(firstError)" }
            return text
        case .binary(let offset):
            return "the list looks binary (NUL or control byte at offset \(offset))"
        case .lineTooLong(let line, let length):
            return "line \(line) is \(length) bytes long (the limit is \(ListParser.maximumLineLength))"
        case .malformed(let format, let line, let reason):
            return "malformed \(format) document at line \(line): \(reason)"
        }
    }
}
