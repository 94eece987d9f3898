/// The `plain` format: one address or prefix per line (anything `IPPrefix` reads), `#` and `;`
/// comments whole-line or trailing, blank lines, surrounding whitespace, CRLF.
/// A line holding anything else (two addresses, a range, a word) is a rejected line.
enum PlainListParser {
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ListError) -> ParsedList {
        var scanner = LineScanner(bytes)
        var list = ListAccumulator(format: .plain)
        while let line = try scanner.next() {
            var end = line.upperBound
            var index = line.lowerBound
            while index < end {
                let byte = bytes[index]
                if byte == ASCII.hash || byte == ASCII.semicolon {
                    end = index
                    break
                }
                index += 1
            }
            let content = ASCII.trimmed(bytes, line.lowerBound..<end)
            guard !content.isEmpty else { continue }
            list.sawContent = true
            if let prefix = IPPrefix.parse(ASCII.slice(bytes, content)) {
                list.accept(prefix)
            } else {
                list.reject(
                    line: scanner.lineNumber,
                    "not an IP address or prefix: \(Excerpt.quoted(bytes, content))"
                )
            }
        }
        return try list.finish()
    }
}
