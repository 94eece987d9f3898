/// Walks the lines of a list without copying: each call to `next()` gives the byte range of
/// the next line (line feed and a trailing carriage return removed) and counts line numbers.
/// A UTF-8 byte order mark at the start is skipped.
struct LineScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var position: Int
    /// The 1-based number of the line last returned (0 before the first).
    private(set) var lineNumber = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.position = ByteSearch.byteOrderMarkLength(bytes)
    }

    /// The next line, or nil at the end.
    /// - Throws: `ListError.lineTooLong` for a line over `ListParser.maximumLineLength` bytes
    ///   (the length is found with a word-at-a-time scan, never by building the line).
    mutating func next() throws(ListError) -> Range<Int>? {
        guard position < bytes.count else { return nil }
        lineNumber += 1
        let start = position
        let newline = ByteSearch.firstIndex(of: ASCII.newline, in: bytes, from: start) ?? bytes.count
        position = newline + 1
        var end = newline
        if end > start && bytes[end - 1] == ASCII.carriageReturn { end -= 1 }
        guard end - start <= ListParser.maximumLineLength else {
            throw .lineTooLong(line: lineNumber, length: end - start)
        }
        return start..<end
    }
}
