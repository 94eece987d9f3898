/// A small, strict, bounded JSON reader over bytes (RFC 8259), for the Onionoo format.
///
/// It reads in place: the caller walks the structure it wants with `expect`, `consume`,
/// `nextItem` and `readString`, and skips the rest with `skipValue`, which checks the syntax
/// without building anything. Nesting is capped at `maximumDepth`, so hostile input cannot
/// exhaust the stack; every error is `ListError.malformed(format: .onionoo, ...)` with the line
/// and column where reading stopped.
struct JSONReader {
    static let maximumDepth = 64

    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var index: Int
    /// The 1-based line of `index`. Line feeds only occur in whitespace in valid JSON.
    private(set) var line = 1
    private var lineStart = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = ByteSearch.byteOrderMarkLength(bytes)
        self.lineStart = index
    }

    /// An error at the current position.
    func error(_ reason: String) -> ListError {
        let found: String
        if index < bytes.count {
            found = Excerpt.quoted(UnsafeBufferPointer(rebasing: bytes[index..<min(index + 1, bytes.count)]))
        } else {
            found = "the end of the document"
        }
        return .malformed(
            format: .onionoo,
            line: line,
            reason: "\(reason), found \(found) at column \(index - lineStart + 1)"
        )
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.newline {
                line += 1
                lineStart = index + 1
            } else if byte != ASCII.space && byte != ASCII.tab && byte != ASCII.carriageReturn {
                return
            }
            index += 1
        }
    }

    /// The next byte after whitespace, not consumed; nil at the end.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    /// Consumes `byte` (after whitespace) if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index += 1
        return true
    }

    /// Consumes `byte`, or throws "expected `what`".
    mutating func expect(_ byte: UInt8, _ what: String) throws(ListError) {
        guard consume(byte) else { throw error("expected \(what)") }
    }

    /// After an element or member: true when a `,` follows (another one comes), false when
    /// `close` (`]` or `}`) ends the container.
    mutating func nextItem(close: UInt8) throws(ListError) -> Bool {
        if consume(0x2C) { return true }
        if consume(close) { return false }
        throw error("expected ',' or '\(Character(Unicode.Scalar(close)))'")
    }

    /// Reads a string value (after whitespace) and returns its decoded UTF-8 bytes, or nil when
    /// they are more than `limit` bytes (the string is still read and checked to its end).
    mutating func readString(limit: Int) throws(ListError) -> [UInt8]? {
        guard peek() == ASCII.quote else { throw error("expected a string") }
        index += 1
        var output: [UInt8] = []
        var overflow = false
        func append(_ byte: UInt8) {
            if output.count < limit { output.append(byte) } else { overflow = true }
        }
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            if byte == ASCII.quote {
                index += 1
                return overflow ? nil : output
            }
            if byte < 0x20 { throw error("control character in a string") }
            guard byte == ASCII.backslash else {
                append(byte)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { throw error("unterminated string") }
            let escape = bytes[index]
            switch escape {
            case ASCII.quote, ASCII.backslash, ASCII.slash: append(escape)
            case 0x62: append(0x08)  // b
            case 0x66: append(0x0C)  // f
            case 0x6E: append(0x0A)  // n
            case 0x72: append(0x0D)  // r
            case 0x74: append(0x09)  // t
            case 0x75:  // u
                index += 1
                var scalar = try readHex4()
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    guard index + 1 < bytes.count && bytes[index] == ASCII.backslash && bytes[index + 1] == 0x75
                    else { throw error("unpaired surrogate in \\u escape") }
                    index += 2
                    let low = try readHex4()
                    guard low >= 0xDC00 && low <= 0xDFFF else { throw error("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                    throw error("unpaired surrogate in \\u escape")
                }
                for unit in UTF8.encode(Unicode.Scalar(scalar)!)! { append(unit) }
                continue  // readHex4 moved past the digits
            default:
                throw error("invalid escape in a string")
            }
            index += 1
        }
    }

    /// Four hex digits at `index`, consumed.
    private mutating func readHex4() throws(ListError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count, let digit = ASCII.hexValue(bytes[index]) else {
                throw error("expected four hex digits in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// Reads and checks any value, building nothing. `depth` is the nesting level of the
    /// value (the document's top value is 1).
    mutating func skipValue(depth: Int) throws(ListError) {
        guard depth <= JSONReader.maximumDepth else {
            throw error("nesting deeper than \(JSONReader.maximumDepth) levels")
        }
        guard let byte = peek() else { throw error("expected a value") }
        switch byte {
        case ASCII.leftBrace:
            index += 1
            if consume(0x7D) { return }
            repeat {
                _ = try readString(limit: 0)
                try expect(ASCII.colon, "':' after an object key")
                try skipValue(depth: depth + 1)
            } while try nextItem(close: 0x7D)
        case ASCII.leftBracket:
            index += 1
            if consume(ASCII.rightBracket) { return }
            repeat {
                try skipValue(depth: depth + 1)
            } while try nextItem(close: ASCII.rightBracket)
        case ASCII.quote:
            _ = try readString(limit: 0)
        case 0x74: try skipLiteral("true")
        case 0x66: try skipLiteral("false")
        case 0x6E: try skipLiteral("null")
        case 0x2D, 0x30...0x39: try skipNumber()
        default: throw error("expected a value")
        }
    }

    private mutating func skipLiteral(_ word: StaticString) throws(ListError) {
        let end = index + word.utf8CodeUnitCount
        guard end <= bytes.count && ASCII.equals(bytes, index..<end, word) else {
            throw error("expected a value")
        }
        index = end
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func skipNumber() throws(ListError) {
        func digits() -> Int {
            let start = index
            while index < bytes.count && ASCII.decimalValue(bytes[index]) != nil { index += 1 }
            return index - start
        }
        if bytes[index] == 0x2D { index += 1 }
        guard index < bytes.count else { throw error("expected a digit") }
        if bytes[index] == 0x30 {
            index += 1
        } else if digits() == 0 {
            throw error("expected a digit")
        }
        if index < bytes.count && bytes[index] == ASCII.dot {
            index += 1
            guard digits() > 0 else { throw error("expected a digit after '.'") }
        }
        if index < bytes.count && (bytes[index] | 0x20) == 0x65 {
            index += 1
            if index < bytes.count && (bytes[index] == 0x2B || bytes[index] == 0x2D) { index += 1 }
            guard digits() > 0 else { throw error("expected a digit in the exponent") }
        }
    }

    /// Checks that only whitespace is left.
    mutating func finish() throws(ListError) {
        guard peek() == nil else { throw error("unexpected data after the document") }
    }
}
