/// Fast byte scans over a list: finding line ends and NUL bytes eight bytes at a time, and the
/// text-or-binary sniff.
enum ByteSearch {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The index of the first `byte` at or after `start`, or nil. Reads a word of eight bytes
    /// per step (the "has a zero byte" bit trick), so a 10 MB line is crossed in milliseconds.
    static func firstIndex(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        let count = bytes.count
        let pattern = UInt64(byte) &* ones
        var index = start
        while index &+ 8 <= count {
            // After the xor, the bytes equal to `byte` are zero; the lowest flagged byte is the
            // first zero byte (borrows only run upward, so flags below it are exact).
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) ^ pattern
            let flags = (word &- ones) & ~word & highs
            if flags != 0 { return index &+ flags.trailingZeroBitCount &>> 3 }
            index &+= 8
        }
        while index < count {
            if bytes[index] == byte { return index }
            index &+= 1
        }
        return nil
    }

    /// 3 when `bytes` starts with the UTF-8 byte order mark, else 0.
    static func byteOrderMarkLength(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }

    /// The number of bytes sniffed by `binaryOffset`.
    static let sniffLength = 4096

    /// Where `bytes` shows it is not text, or nil for text: the first NUL byte anywhere, else,
    /// when more than a quarter of the first 4 KiB are control bytes (other than tab, line
    /// feed, carriage return, vertical tab, form feed) or bytes of invalid UTF-8, the first such
    /// byte. Cost: one word-at-a-time pass for NUL, one byte pass over at most 4 KiB.
    static func binaryOffset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        if let nul = firstIndex(of: 0, in: bytes, from: 0) { return nul }
        let end = min(bytes.count, sniffLength)
        var suspicious = 0
        var firstSuspicious: Int? = nil
        var index = 0
        while index < end {
            let byte = bytes[index]
            var length = 1
            var bad = false
            if byte < 0x20 {
                bad = !(byte == 0x09 || byte == 0x0A || byte == 0x0B || byte == 0x0C || byte == 0x0D)
            } else if byte == 0x7F {
                bad = true
            } else if byte >= 0x80 {
                let continuation: Int
                switch byte {
                case 0xC2...0xDF: continuation = 1
                case 0xE0...0xEF: continuation = 2
                case 0xF0...0xF4: continuation = 3
                default: continuation = -1
                }
                if continuation < 0 {
                    bad = true
                } else if index + continuation < end {
                    for next in 1...continuation where bytes[index + next] & 0xC0 != 0x80 { bad = true }
                    if !bad { length += continuation }
                } else {
                    length = end - index  // cut off by the sniff window: give it the benefit of the doubt
                }
            }
            if bad {
                suspicious += 1
                if firstSuspicious == nil { firstSuspicious = index }
            }
            index += length
        }
        return suspicious * 4 > end ? firstSuspicious : nil
    }
}
