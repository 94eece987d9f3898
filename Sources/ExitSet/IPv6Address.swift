/// An IPv6 address as two 64-bit halves in host byte order: the first eight bytes of the
/// address are `high`, the last eight are `low` (`2001:db8::1` is high `0x20010db800000000`,
/// low `1`).
///
/// Ordering is numeric. Text forms accepted by `init?(_:)`: compressed (`2001:db8::1`), fully
/// expanded and zero padded (`2001:0db8:0000:0000:0000:0000:0000:0001`), an embedded IPv4 tail
/// (`::ffff:192.0.2.1`, `64:ff9b::192.0.2.1`), any letter case. Refused: brackets (see
/// `IPAddress`), zone ids (`fe80::1%eth0`), groups of more than four digits, more than one `::`,
/// surrounding whitespace.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The first eight bytes of the address, big-endian order folded into a host integer.
    public var high: UInt64
    /// The last eight bytes of the address.
    public var low: UInt64

    /// The address with the given halves.
    @inlinable
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the textual forms listed on the type; nil for anything else.
    public init?(_ text: some StringProtocol) {
        guard let parsed = ASCII.withBytes(of: text, IPv6Address.parse) else { return nil }
        self = parsed
    }

    @inlinable
    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }

    /// Whether this is an IPv4-mapped address, `::ffff:a.b.c.d` (RFC 4291 section 2.5.5.2).
    @inlinable
    public var isIPv4Mapped: Bool {
        high == 0 && low >> 32 == 0xFFFF
    }

    /// The IPv4 address inside an IPv4-mapped address, nil for any other address.
    var mappedIPv4: IPv4Address? {
        isIPv4Mapped ? IPv4Address(UInt32(truncatingIfNeeded: low)) : nil
    }

    /// The IPv4-mapped form of an IPv4 address.
    init(mapping address: IPv4Address) {
        self.init(high: 0, low: 0xFFFF_0000_0000 | UInt64(address.value))
    }

    /// The eight 16-bit groups, first group first.
    var groups: [UInt16] {
        (0..<8).map { index in
            let half = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: half >> (48 - 16 * UInt64(index % 4)))
        }
    }

    /// The RFC 5952 canonical text: lowercase hex, no leading zeros, the longest run of two or
    /// more zero groups written as `::` (the first such run on a tie), and an IPv4-mapped address
    /// written with a dotted tail (`::ffff:192.0.2.1`).
    public var description: String {
        if let mapped = mappedIPv4 { return "::ffff:\(mapped)" }
        let groups = self.groups
        var bestStart = -1
        var bestLength = 1  // a single zero group is never compressed
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < 8 && groups[index] == 0 { index += 1 }
            if index - start > bestLength {
                bestStart = start
                bestLength = index - start
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// The byte-level parser behind `init?(_:)` and the list formats: the whole of `bytes` must
    /// be one of the accepted forms. Cost: one pass over at most 45 bytes, no allocation.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> IPv6Address? {
        let count = bytes.count
        // "::" is the shortest form; "ffff:...:ffff:255.255.255.255" (45 bytes) the longest.
        guard count >= 2 && count <= 45 else { return nil }
        var index = 0
        var value: UInt128 = 0  // groups read since the start, or since the "::"
        var groupCount = 0  // groups read in total, an IPv4 tail counting as two
        var head: UInt128 = 0  // the groups before "::"
        var headCount = -1  // how many groups precede "::"; -1 while no "::" was seen
        if bytes[0] == ASCII.colon {
            guard bytes[1] == ASCII.colon else { return nil }
            headCount = 0
            index = 2
            if count == 2 { return IPv6Address(high: 0, low: 0) }
        }
        while true {
            guard groupCount < 8 else { return nil }
            let groupStart = index
            var group: UInt128 = 0
            while index < count, let digit = ASCII.hexValue(bytes[index]) {
                guard index - groupStart < 4 else { return nil }
                group = group << 4 | UInt128(digit)
                index += 1
            }
            guard index > groupStart else { return nil }
            if index < count && bytes[index] == ASCII.dot {
                // An IPv4 tail: it must end the text and take the last two groups.
                guard groupCount <= 6,
                    let tail = IPv4Address.parse(UnsafeBufferPointer(rebasing: bytes[groupStart..<count]))
                else { return nil }
                value = value << 32 | UInt128(tail.value)
                groupCount += 2
                break
            }
            value = value << 16 | group
            groupCount += 1
            if index == count { break }
            guard bytes[index] == ASCII.colon else { return nil }
            index += 1
            guard index < count else { return nil }  // a trailing single ':'
            if bytes[index] == ASCII.colon {
                guard headCount < 0 else { return nil }  // a second "::"
                head = value
                headCount = groupCount
                value = 0
                index += 1
                if index == count { break }
            }
        }
        let full: UInt128
        if headCount >= 0 {
            guard groupCount <= 7 else { return nil }  // "::" stands for at least one group
            full = head << (16 * (8 - headCount)) | value  // the zeros fill the gap
        } else {
            guard groupCount == 8 else { return nil }
            full = value
        }
        return IPv6Address(high: UInt64(truncatingIfNeeded: full >> 64), low: UInt64(truncatingIfNeeded: full))
    }
}
