extension StringProtocol {
    /// The text without the whitespace (spaces, tabs, line ends: `Character.isWhitespace`) at
    /// either end. Foundation's `trimmingCharacters(in:)` for the commands' output lines,
    /// without linking Foundation.
    public func trimmingWhitespace() -> String {
        trimming(while: \.isWhitespace)
    }

    /// The text without the characters at either end for which `predicate` holds.
    public func trimming(while predicate: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !predicate($0) }),
            let last = lastIndex(where: { !predicate($0) })
        else { return "" }
        return String(self[first...last])
    }
}
