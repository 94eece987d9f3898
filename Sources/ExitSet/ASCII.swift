/// Byte-level helpers for the text formats. Everything here works on raw UTF-8 / ASCII bytes,
/// never on `String`, so the list parsers can stay allocation-free per line.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let leftBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let rightBracket: UInt8 = 0x5D
    static let leftBrace: UInt8 = 0x7B

    /// Space, tab, CR, vertical tab and form feed: the bytes trimmed around list lines.
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab || byte == carriageReturn || byte == 0x0B || byte == 0x0C
    }

    /// The value of a decimal digit, or nil.
    @inline(__always)
    static func decimalValue(_ byte: UInt8) -> UInt8? {
        let value = byte &- 0x30
        return value <= 9 ? value : nil
    }

    /// The value of a hexadecimal digit (either case), or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        let digit = byte &- 0x30
        if digit <= 9 { return digit }
        let letter = (byte | 0x20) &- 0x61  // fold to lowercase, 'a' = 0
        return letter <= 5 ? letter &+ 10 : nil
    }

    /// Whether `bytes[range]` starts with the ASCII text `prefix`.
    static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard range.count >= count else { return false }
        let text = prefix.utf8Start
        for offset in 0..<count where bytes[range.lowerBound + offset] != text[offset] {
            return false
        }
        return true
    }

    /// Whether `bytes[range]` is exactly the ASCII text `word`.
    static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ word: StaticString) -> Bool {
        range.count == word.utf8CodeUnitCount && hasPrefix(bytes, range, word)
    }

    /// Whether `bytes` is exactly the ASCII text `word`.
    static func equals(_ bytes: [UInt8], _ word: StaticString) -> Bool {
        bytes.withUnsafeBufferPointer { equals($0, 0..<$0.count, word) }
    }

    /// `range` without leading and trailing whitespace.
    static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var start = range.lowerBound
        var end = range.upperBound
        while start < end && isWhitespace(bytes[start]) { start += 1 }
        while end > start && isWhitespace(bytes[end - 1]) { end -= 1 }
        return start..<end
    }

    /// Splits `bytes[range]` on runs of spaces and tabs into `fields` (cleared first). Stops after
    /// `limit` fields; the last field then holds the rest of the line.
    static func split(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        into fields: inout [Range<Int>],
        limit: Int = 16
    ) {
        fields.removeAll(keepingCapacity: true)
        var index = range.lowerBound
        let end = range.upperBound
        while index < end {
            while index < end && (bytes[index] == space || bytes[index] == tab) { index += 1 }
            if index == end { break }
            let start = index
            if fields.count == limit - 1 {
                fields.append(start..<end)
                return
            }
            while index < end && bytes[index] != space && bytes[index] != tab { index += 1 }
            fields.append(start..<index)
        }
    }

    /// A sub-buffer view of `bytes[range]`, for the address parsers.
    @inline(__always)
    static func slice(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[range])
    }

    /// Runs `body` over the UTF-8 bytes of `text`, without copying when the text is stored
    /// contiguously (native `String` and its `Substring`s).
    static func withBytes<Result>(
        of text: some StringProtocol,
        _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = String(text)
        return copy.withUTF8(body)
    }
}
