/// The `onionoo` format: an Onionoo `details` document.
///
/// ```
/// {"version":"8.0", "relays":[
///   {"nickname":"x", "or_addresses":["192.0.2.1:443","[2001:db8::1]:443"],
///    "exit_addresses":["198.51.100.7"], "flags":["Exit","Fast","Running","Valid"]}
/// ], "bridges":[]}
/// ```
///
/// A relay counts when its `flags` include `Exit` and not `BadExit`; it gives every address of
/// `exit_addresses` (plain addresses) and of `or_addresses` (`address:port`, IPv6 in
/// brackets). An address of a counting relay that does not parse is a rejected line (the line
/// of the string). Other members are checked for syntax and skipped; a member of the wrong
/// type, a syntax error or nesting over 64 levels makes the document `ListError.malformed`.
/// A document without a `relays` array is malformed too.
enum OnionooParser {
    /// The longest string kept for an address or a flag; longer ones cannot be either.
    private static let stringLimit = 128

    private static let closeBrace: UInt8 = 0x7D

    /// A string of an array, with where it was.
    private struct StringToken {
        /// The decoded bytes; nil when over `stringLimit`.
        var bytes: [UInt8]?
        var line: Int
        /// The raw text inside the quotes, for error messages.
        var raw: Range<Int>
    }

    /// An address string of a relay: `address:port` (`or_addresses`) or a bare address.
    private struct AddressText {
        var token: StringToken
        var hasPort: Bool
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ListError) -> ParsedList {
        var reader = JSONReader(bytes)
        var list = ListAccumulator(format: .onionoo)
        var sawRelays = false
        try reader.expect(ASCII.leftBrace, "'{' (an Onionoo document is a JSON object)")
        if !reader.consume(closeBrace) {
            repeat {
                let key = try reader.readString(limit: 32)
                try reader.expect(ASCII.colon, "':' after an object key")
                if let key, ASCII.equals(key, "relays") {
                    sawRelays = true
                    list.sawContent = true
                    try readRelays(&reader, into: &list)
                } else {
                    try reader.skipValue(depth: 2)
                }
            } while try reader.nextItem(close: closeBrace)
        }
        try reader.finish()
        guard sawRelays else {
            throw .malformed(format: .onionoo, line: reader.line, reason: "no \"relays\" array")
        }
        return try list.finish()
    }

    private static func readRelays(_ reader: inout JSONReader, into list: inout ListAccumulator) throws(ListError) {
        try reader.expect(ASCII.leftBracket, "'[' (\"relays\" is an array)")
        if reader.consume(ASCII.rightBracket) { return }
        repeat {
            try readRelay(&reader, into: &list)
        } while try reader.nextItem(close: ASCII.rightBracket)
    }

    private static func readRelay(_ reader: inout JSONReader, into list: inout ListAccumulator) throws(ListError) {
        try reader.expect(ASCII.leftBrace, "'{' (a relay is an object)")
        var addresses: [AddressText] = []
        var isExit = false
        var isBadExit = false
        if !reader.consume(closeBrace) {
            repeat {
                let key = try reader.readString(limit: 32) ?? []
                try reader.expect(ASCII.colon, "':' after an object key")
                if ASCII.equals(key, "or_addresses") {
                    try readStrings(&reader) { addresses.append(AddressText(token: $0, hasPort: true)) }
                } else if ASCII.equals(key, "exit_addresses") {
                    try readStrings(&reader) { addresses.append(AddressText(token: $0, hasPort: false)) }
                } else if ASCII.equals(key, "flags") {
                    try readStrings(&reader) { token in
                        guard let flag = token.bytes else { return }
                        if ASCII.equals(flag, "Exit") { isExit = true }
                        if ASCII.equals(flag, "BadExit") { isBadExit = true }
                    }
                } else {
                    try reader.skipValue(depth: 4)
                }
            } while try reader.nextItem(close: closeBrace)
        }
        guard isExit && !isBadExit else { return }
        for text in addresses {
            let address = text.token.bytes.flatMap { bytes in
                bytes.withUnsafeBufferPointer { text.hasPort ? Endpoint.address($0) : IPAddress.parse($0) }
            }
            if let address {
                list.accept(IPPrefix(host: address))
            } else {
                let kind = text.hasPort ? "an address:port" : "an IP address"
                list.reject(line: text.token.line, "not \(kind): \(Excerpt.quoted(reader.bytes, text.token.raw))")
            }
        }
    }

    /// Reads an array of strings (or `null`, taken as empty), calling `body` for each.
    private static func readStrings(
        _ reader: inout JSONReader,
        _ body: (StringToken) -> Void
    ) throws(ListError) {
        if reader.peek() == 0x6E {  // null
            try reader.skipValue(depth: 4)
            return
        }
        try reader.expect(ASCII.leftBracket, "'[' (an array of strings)")
        if reader.consume(ASCII.rightBracket) { return }
        repeat {
            _ = reader.peek()
            let start = reader.index + 1
            let line = reader.line
            let text = try reader.readString(limit: stringLimit)
            body(StringToken(bytes: text, line: line, raw: start..<(reader.index - 1)))
        } while try reader.nextItem(close: ASCII.rightBracket)
    }
}
