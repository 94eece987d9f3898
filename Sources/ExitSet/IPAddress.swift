/// An IPv4 or IPv6 address. Every IPv4 address orders before every IPv6 address.
///
/// The text initialiser normalizes an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) to `.v4`,
/// so that one host has one spelling in a set.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses an IPv4 dotted quad, an IPv6 address (any form `IPv6Address` accepts), or an IPv6
    /// address in brackets (`[2001:db8::1]`); nil for anything else. IPv4-mapped IPv6 becomes `.v4`.
    public init?(_ text: some StringProtocol) {
        guard let parsed = ASCII.withBytes(of: text, IPAddress.parse) else { return nil }
        self = parsed
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let left), .v4(let right)): left < right
        case (.v6(let left), .v6(let right)): left < right
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }

    /// The dotted quad or the RFC 5952 canonical IPv6 text (no brackets).
    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    /// The same host with an IPv4-mapped IPv6 address turned into `.v4`.
    var normalized: IPAddress {
        if case .v6(let address) = self, let mapped = address.mappedIPv4 { return .v4(mapped) }
        return self
    }

    /// The byte-level parser behind `init?(_:)`; no allocation.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        let count = bytes.count
        guard count > 0 else { return nil }
        if bytes[0] == ASCII.leftBracket {
            guard count >= 4 && bytes[count - 1] == ASCII.rightBracket,
                let address = IPv6Address.parse(UnsafeBufferPointer(rebasing: bytes[1..<(count - 1)]))
            else { return nil }
            return IPAddress.v6(address).normalized
        }
        if bytes.contains(ASCII.colon) {
            return IPv6Address.parse(bytes).map { IPAddress.v6($0).normalized }
        }
        return IPv4Address.parse(bytes).map(IPAddress.v4)
    }
}
