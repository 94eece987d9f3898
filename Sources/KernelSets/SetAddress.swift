import ExitSet

/// An address of a kernel set's element, in host byte order (`1.2.3.4` is `0x01020304`; an
/// IPv6 address's first eight bytes are `high`): what the set clients take and list.
public enum SetAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    case v4(UInt32)
    case v6(high: UInt64, low: UInt64)

    public var isIPv4: Bool {
        if case .v4 = self { return true }
        return false
    }

    /// The next address, nil after the family's last one.
    public var successor: SetAddress? {
        switch self {
        case .v4(let value):
            return value == .max ? nil : .v4(value + 1)
        case .v6(let high, let low):
            if low != .max { return .v6(high: high, low: low + 1) }
            return high == .max ? nil : .v6(high: high + 1, low: 0)
        }
    }

    /// The address with all but the first `length` bits cleared (the network of a prefix).
    public func network(length: Int) -> SetAddress {
        switch self {
        case .v4(let value):
            return .v4(length >= 32 ? value : length <= 0 ? 0 : value & ~(UInt32.max >> length))
        case .v6(let high, let low):
            let highMask: UInt64 = length >= 64 ? .max : length <= 0 ? 0 : ~(UInt64.max >> length)
            let lowMask: UInt64 = length >= 128 ? .max : length <= 64 ? 0 : ~(UInt64.max >> (length - 64))
            return .v6(high: high & highMask, low: low & lowMask)
        }
    }

    /// The last address of the prefix of `length` bits this address starts.
    public func lastAddress(length: Int) -> SetAddress {
        switch self {
        case .v4(let value):
            return .v4(length >= 32 ? value : length <= 0 ? .max : value | (UInt32.max >> length))
        case .v6(let high, let low):
            let highHost: UInt64 = length >= 64 ? 0 : length <= 0 ? .max : UInt64.max >> length
            let lowHost: UInt64 = length >= 128 ? 0 : length <= 64 ? .max : UInt64.max >> (length - 64)
            return .v6(high: high | highHost, low: low | lowHost)
        }
    }

    /// The address's bytes in network order (4 or 16).
    public var networkBytes: [UInt8] {
        switch self {
        case .v4(let value): withUnsafeBytes(of: value.bigEndian) { Array($0) }
        case .v6(let high, let low): withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { Array($0) }
        }
    }

    /// The address of 4 or 16 bytes in network order; nil for any other length.
    public init?(networkBytes bytes: UnsafeRawBufferPointer) {
        switch bytes.count {
        case 4:
            self = .v4(UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self)))
        case 16:
            self = .v6(
                high: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)),
                low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        default:
            return nil
        }
    }

    public static func < (lhs: SetAddress, rhs: SetAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v6(let ah, let al), .v6(let bh, let bl)): (ah, al) < (bh, bl)
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }

    /// Dotted quad, or RFC 5952 text (ExitSet's form, as the engine prints addresses).
    public var description: String {
        switch self {
        case .v4(let value): IPv4Address(value).description
        case .v6(let high, let low): IPv6Address(high: high, low: low).description
        }
    }
}
