/// One attribute inside a message or a nest: its type (NLA_F_NESTED and NLA_F_NET_BYTEORDER
/// masked off) and a view of its payload. Readers return nil when the payload is too short
/// for what is asked.
public struct NetlinkAttribute {
    public let type: UInt16
    /// NLA_F_NESTED was set.
    public let isNested: Bool
    /// The payload, padding excluded.
    public let payload: UnsafeRawBufferPointer

    @inlinable
    public init(type: UInt16, isNested: Bool, payload: UnsafeRawBufferPointer) {
        self.type = type
        self.isNested = isNested
        self.payload = payload
    }

    @inlinable
    public var u8: UInt8? { payload.count >= 1 ? payload[0] : nil }

    /// A big-endian u16 (netfilter's byte order), in host order.
    @inlinable
    public var bigEndianU16: UInt16? {
        payload.count >= 2 ? UInt16(bigEndian: payload.loadUnaligned(as: UInt16.self)) : nil
    }

    /// A big-endian u32, in host order.
    @inlinable
    public var bigEndianU32: UInt32? {
        payload.count >= 4 ? UInt32(bigEndian: payload.loadUnaligned(as: UInt32.self)) : nil
    }

    /// A big-endian u64 at `offset`, in host order.
    @inlinable
    public func bigEndianU64(at offset: Int = 0) -> UInt64? {
        offset >= 0 && payload.count - offset >= 8
            ? UInt64(bigEndian: payload.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) : nil
    }
}
