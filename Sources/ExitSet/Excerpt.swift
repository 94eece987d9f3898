/// Renders bytes of a refused line for an error message: printable ASCII as is, any other byte
/// (and the backslash) as `\xNN`, cut to at most 60 characters with `...` at the end when cut.
enum Excerpt {
    static let limit = 60

    static func render(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        func width(_ byte: UInt8) -> Int {
            byte >= 0x20 && byte < 0x7F && byte != ASCII.backslash ? 1 : 4
        }
        let total = bytes.reduce(0) { $0 + width($1) }
        let budget = total <= limit ? limit : limit - 3
        var output: [UInt8] = []
        output.reserveCapacity(limit)
        let hexDigits = Array("0123456789abcdef".utf8)
        for byte in bytes {
            guard output.count + width(byte) <= budget else { break }
            if width(byte) == 1 {
                output.append(byte)
            } else {
                output += [ASCII.backslash, 0x78, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]]
            }
        }
        if total > limit { output += [ASCII.dot, ASCII.dot, ASCII.dot] }
        return String(decoding: output, as: UTF8.self)
    }

    /// The excerpt in single quotes.
    static func quoted(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        "'" + render(bytes) + "'"
    }

    static func quoted(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        quoted(ASCII.slice(bytes, range))
    }
}
