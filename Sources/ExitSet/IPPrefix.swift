/// An address prefix (a CIDR block): every address whose first `length` bits equal those of
/// `address`. A prefix of full length (`/32`, `/128`) is a single host.
///
/// The address is always stored masked: host bits beyond `length` are zero. An IPv4-mapped IPv6
/// prefix of length 96 or more (`::ffff:192.0.2.0/120`) is stored as the IPv4 prefix it covers
/// (`192.0.2.0/24`). Ordering: by address (IPv4 before IPv6, then numeric), then the shorter
/// prefix first.
public struct IPPrefix: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The first address of the block (host bits zero).
    public let address: IPAddress
    /// The number of leading bits that count: 0...32 for IPv4, 0...128 for IPv6.
    public let length: UInt8

    /// The prefix of `length` bits around `address`; host bits of `address` are cleared.
    /// An IPv4-mapped IPv6 address with `length >= 96` gives the IPv4 prefix of `length - 96`.
    /// - Precondition: `length` is at most 32 for IPv4 and at most 128 for IPv6.
    public init(_ address: IPAddress, length: UInt8) {
        switch address {
        case .v4(let v4):
            precondition(length <= 32, "IPv4 prefix length \(length) is over 32")
            self.init(masked: .v4(IPv4Address(v4.value & IPPrefix.mask32(length))), length: length)
        case .v6(let v6):
            precondition(length <= 128, "IPv6 prefix length \(length) is over 128")
            if length >= 96, let mapped = v6.mappedIPv4 {
                let v4Length = length - 96
                self.init(masked: .v4(IPv4Address(mapped.value & IPPrefix.mask32(v4Length))), length: v4Length)
            } else {
                let mask = IPPrefix.mask128(length)
                self.init(masked: .v6(IPv6Address(high: v6.high & mask.high, low: v6.low & mask.low)), length: length)
            }
        }
    }

    /// Stores an address already masked and normalized.
    private init(masked address: IPAddress, length: UInt8) {
        self.address = address
        self.length = length
    }

    /// The host prefix (`/32` or `/128`) of `address`.
    public init(host address: IPAddress) {
        switch address.normalized {
        case .v4(let v4): self.init(.v4(v4), length: 32)
        case .v6(let v6): self.init(.v6(v6), length: 128)
        }
    }

    /// Parses `"a.b.c.d"`, `"a.b.c.d/n"`, an IPv6 address with or without `/n`, and the
    /// bracketed forms `"[v6]"`, `"[v6]/n"`. A bare address is a host prefix.
    ///
    /// Host bits set below the length (`"10.0.0.1/8"`) are accepted and cleared, as ipset and
    /// iptables do, so the text gives `10.0.0.0/8`. The length is decimal without leading zeros
    /// (`"/08"` is refused), 0...32 for IPv4 and 0...128 for IPv6.
    public init?(_ text: some StringProtocol) {
        guard let parsed = ASCII.withBytes(of: text, IPPrefix.parse) else { return nil }
        self = parsed
    }

    /// Whether `address` lies inside this block. An IPv4-mapped IPv6 address is looked at as
    /// the IPv4 address it maps.
    public func contains(_ address: IPAddress) -> Bool {
        switch (self.address, address.normalized) {
        case (.v4(let block), .v4(let candidate)):
            return candidate.value & IPPrefix.mask32(length) == block.value
        case (.v6(let block), .v6(let candidate)):
            let mask = IPPrefix.mask128(length)
            return candidate.high & mask.high == block.high && candidate.low & mask.low == block.low
        default:
            return false
        }
    }

    /// Whether the prefix is one host: `/32` for IPv4, `/128` for IPv6.
    public var isHost: Bool {
        switch address {
        case .v4: length == 32
        case .v6: length == 128
        }
    }

    /// `"192.0.2.1"` for a host, `"192.0.2.0/24"` otherwise; IPv6 in RFC 5952 form.
    public var description: String {
        isHost ? address.description : "\(address)/\(length)"
    }

    public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
        lhs.address != rhs.address ? lhs.address < rhs.address : lhs.length < rhs.length
    }

    /// The IPv4 netmask of `length` bits (`length` 0...32).
    @inline(__always)
    static func mask32(_ length: UInt8) -> UInt32 {
        length == 0 ? 0 : UInt32.max << (32 - UInt32(length))
    }

    /// The IPv6 netmask of `length` bits (`length` 0...128), as halves.
    @inline(__always)
    static func mask128(_ length: UInt8) -> (high: UInt64, low: UInt64) {
        let high: UInt64 = length >= 64 ? .max : (length == 0 ? 0 : .max << (64 - UInt64(length)))
        let low: UInt64 = length <= 64 ? 0 : (length == 128 ? .max : .max << (128 - UInt64(length)))
        return (high, low)
    }

    /// The byte-level parser behind `init?(_:)` and the list formats; no allocation.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> IPPrefix? {
        let count = bytes.count
        guard count > 0 else { return nil }
        var addressEnd = count
        var length: UInt8? = nil
        if let slash = bytes.firstIndex(of: ASCII.slash) {
            addressEnd = slash
            let digits = (slash + 1)..<count
            guard digits.count >= 1 && digits.count <= 3 else { return nil }
            guard bytes[digits.lowerBound] != 0x30 || digits.count == 1 else { return nil }
            var value = 0
            for index in digits {
                guard let digit = ASCII.decimalValue(bytes[index]) else { return nil }
                value = value * 10 + Int(digit)
            }
            guard value <= 128 else { return nil }
            length = UInt8(value)
        }
        let text = UnsafeBufferPointer(rebasing: bytes[0..<addressEnd])
        guard let first = text.first else { return nil }
        if first == ASCII.leftBracket || text.contains(ASCII.colon) {
            let inner: UnsafeBufferPointer<UInt8>
            if first == ASCII.leftBracket {
                guard text.count >= 4 && text[text.count - 1] == ASCII.rightBracket else { return nil }
                inner = UnsafeBufferPointer(rebasing: text[1..<(text.count - 1)])
            } else {
                inner = text
            }
            guard let address = IPv6Address.parse(inner) else { return nil }
            return IPPrefix(.v6(address), length: length ?? 128)
        }
        guard let address = IPv4Address.parse(text) else { return nil }
        let v4Length = length ?? 32
        guard v4Length <= 32 else { return nil }
        return IPPrefix(.v4(address), length: v4Length)
    }
}
