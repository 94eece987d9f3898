/// One line of a list that was refused; the rest of the list is still used.
public struct ListEntryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line number.
    public var line: Int
    /// Why the line was refused, with a quoted excerpt of at most 60 printable characters
    /// (other bytes written `\xNN`), e.g. `not an IP address or prefix: 'foo'`.
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    /// `line N: reason`.
    public var description: String { "line \(line): \(reason)" }
}
