/// An IPv4 address as a 32-bit number in host byte order: `1.2.3.4` is `0x01020304`.
///
/// Ordering is numeric. Text is the strict dotted quad: exactly four decimal octets 0–255, no
/// leading zeros (`"01.2.3.4"` is refused, as some parsers read it as octal), no shorthand forms
/// (`"1.2.3"`, `"0x7f.1"`), no surrounding whitespace.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address in host byte order (`1.2.3.4` == `0x01020304`).
    public var value: UInt32

    /// The address with the given 32-bit value in host byte order.
    @inlinable
    public init(_ value: UInt32) {
        self.value = value
    }

    /// Parses a strict dotted quad such as `"192.0.2.1"`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        guard let parsed = ASCII.withBytes(of: text, IPv4Address.parse) else { return nil }
        self = parsed
    }

    @inlinable
    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool {
        lhs.value < rhs.value
    }

    /// The dotted quad, e.g. `"192.0.2.1"`.
    public var description: String {
        let value = self.value
        return "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }

    /// The byte-level parser behind `init?(_:)` and the list formats: the whole of `bytes` must
    /// be a strict dotted quad. Cost: one pass over at most 15 bytes, no allocation.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> IPv4Address? {
        let count = bytes.count
        guard count >= 7 && count <= 15 else { return nil }
        var value: UInt32 = 0
        var index = 0
        for octetIndex in 0..<4 {
            if octetIndex > 0 {
                guard index < count && bytes[index] == ASCII.dot else { return nil }
                index += 1
            }
            guard index < count, let first = ASCII.decimalValue(bytes[index]) else { return nil }
            index += 1
            var octet = UInt32(first)
            if first != 0 {  // a leading zero must stand alone
                var digits = 1
                while digits < 3 && index < count, let digit = ASCII.decimalValue(bytes[index]) {
                    octet = octet * 10 + UInt32(digit)
                    index += 1
                    digits += 1
                }
                guard octet <= 255 else { return nil }
            }
            value = value << 8 | octet
        }
        return index == count ? IPv4Address(value) : nil
    }
}
