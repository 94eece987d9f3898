/// Builds netlink messages into one reusable byte buffer, laid out exactly as libmnl's
/// mnl_nlmsg_put_header / mnl_nlmsg_put_extra_header / mnl_attr_put* / mnl_attr_nest_* do:
/// headers in host byte order, nlmsg_len and nla_len set when a message or nest ends,
/// payloads zero-padded to 4 bytes. Several messages in a row make a batch for one send.
/// After `removeAll` the storage is reused: no allocation once it has grown to its size.
public struct NetlinkWriter {
    @usableFromInline var storage: [UInt8]
    /// The bytes written so far.
    public var bytes: [UInt8] { storage }

    /// Where a message began, for `endMessage`.
    public struct MessageStart {
        @usableFromInline let offset: Int
        @inlinable init(offset: Int) { self.offset = offset }
    }

    /// Where a nest began, for `endNest`.
    public struct NestStart {
        @usableFromInline let offset: Int
        @inlinable init(offset: Int) { self.offset = offset }
    }

    /// A writer whose buffer holds `capacity` bytes before it must grow.
    public init(capacity: Int = 256) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    /// Forgets what was written, keeping the storage.
    @inlinable
    public mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
    }

    /// Starts a message (struct nlmsghdr; its length is set by `endMessage`). Port id 0: the kernel.
    @inlinable
    public mutating func beginMessage(type: UInt16, flags: UInt16, sequence: UInt32 = 0) -> MessageStart {
        let start = MessageStart(offset: storage.count)
        appendHost(UInt32(0))
        appendHost(type)
        appendHost(flags)
        appendHost(sequence)
        appendHost(UInt32(0))
        return start
    }

    /// The netfilter header (struct nfgenmsg): family, version NFNETLINK_V0, resource id in
    /// network byte order (the queue number for NFQUEUE, 0 for ctnetlink).
    @inlinable
    public mutating func putNetfilterHeader(family: UInt8, resourceID: UInt16 = 0) {
        storage.append(family)
        storage.append(0)
        appendBigEndian(resourceID)
    }

    /// Sets the message's nlmsg_len (padding included, as mnl_nlmsg_put_* count it).
    @inlinable
    public mutating func endMessage(_ start: MessageStart) {
        pad()
        setHost(UInt32(storage.count - start.offset), at: start.offset)
    }

    /// An attribute with `payload` as is.
    @inlinable
    public mutating func putAttribute(type: UInt16, payload: UnsafeRawBufferPointer) {
        appendHost(UInt16(Netlink.attributeHeaderSize + payload.count))
        appendHost(type)
        storage.append(contentsOf: payload)
        pad()
    }

    /// An attribute holding `value` in network byte order (mnl_attr_put_u16/u32/u64 of an htons'd value).
    @inlinable
    public mutating func putAttribute<T: FixedWidthInteger>(type: UInt16, bigEndian value: T) {
        withUnsafeBytes(of: value.bigEndian) { putAttribute(type: type, payload: $0) }
    }

    /// A one-byte attribute (mnl_attr_put_u8).
    @inlinable
    public mutating func putAttribute(type: UInt16, u8 value: UInt8) {
        withUnsafeBytes(of: value) { putAttribute(type: type, payload: $0) }
    }

    /// Bytes the caller has laid out itself, as they are: for a fixed message written in one
    /// go on a hot path (see `VerdictBatch`), where the field-by-field appends cost more
    /// than the work around them. Lengths and padding are the caller's.
    @inlinable
    public mutating func putRaw(_ bytes: UnsafeRawBufferPointer) {
        storage.append(contentsOf: bytes)
    }

    /// Starts a nested attribute (NLA_F_NESTED set); `endNest` sets its length.
    @inlinable
    public mutating func beginNest(type: UInt16) -> NestStart {
        let start = NestStart(offset: storage.count)
        appendHost(UInt16(0))
        appendHost(type | Netlink.AttributeFlags.nested)
        return start
    }

    @inlinable
    public mutating func endNest(_ start: NestStart) {
        setHost(UInt16(truncatingIfNeeded: storage.count - start.offset), at: start.offset)
    }

    @inlinable
    mutating func pad() {
        while storage.count & 3 != 0 { storage.append(0) }
    }

    @inlinable
    mutating func appendHost<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value) { storage.append(contentsOf: $0) }
    }

    @inlinable
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { storage.append(contentsOf: $0) }
    }

    @inlinable
    mutating func setHost<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storage.withUnsafeMutableBytes { $0.storeBytes(of: value, toByteOffset: offset, as: T.self) }
    }
}
