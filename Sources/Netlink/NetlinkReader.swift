/// Reads netlink buffers: the messages of a datagram and the attributes of a message or a
/// nest. Every read is length-checked first; a header that does not fit ends the walk as
/// `.malformed` and nothing past it is read. No allocation: the callbacks get views.
///
/// Rules, as libmnl's: a message is walked when 16 <= nlmsg_len <= the bytes left, the next
/// one starts at NLMSG_ALIGN(nlmsg_len); an attribute when 4 <= nla_len <= the bytes left, the
/// next at NLA_ALIGN(nla_len); attribute types lose NLA_F_NESTED and NLA_F_NET_BYTEORDER.
/// Unlike mnl_attr_parse, left-over bytes too few for an attribute header are `.malformed`.
public enum NetlinkReader {
    /// Calls `body` for each message of `buffer` (control messages too; see
    /// `NetlinkMessage.errorCode`), until a callback says stop or error.
    @inlinable
    public static func forEachMessage(
        in buffer: UnsafeRawBufferPointer,
        _ body: (NetlinkMessage) -> NetlinkCallbackResult
    ) -> NetlinkWalkResult {
        let header = Netlink.messageHeaderSize
        var offset = 0
        // Offsets stay within `buffer.count` (checked before each use), so the arithmetic
        // wraps without overflow checks: this walk runs for every queued packet.
        while offset < buffer.count {
            guard buffer.count &- offset >= header else { return .malformed }
            let length = Int(buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            guard length >= header, length <= buffer.count &- offset else { return .malformed }
            let message = NetlinkMessage(
                type: buffer.loadUnaligned(fromByteOffset: offset &+ 4, as: UInt16.self),
                flags: buffer.loadUnaligned(fromByteOffset: offset &+ 6, as: UInt16.self),
                sequence: buffer.loadUnaligned(fromByteOffset: offset &+ 8, as: UInt32.self),
                portID: buffer.loadUnaligned(fromByteOffset: offset &+ 12, as: UInt32.self),
                payload: UnsafeRawBufferPointer(rebasing: buffer[(offset &+ header)..<(offset &+ length)])
            )
            switch body(message) {
            case .ok: break
            case .stop: return .stopped
            case .error: return .failed
            }
            // The last message's padding may be missing; that is the end, not an error.
            offset = min(offset &+ Netlink.align(length), buffer.count)
        }
        return .complete
    }

    /// Calls `body` for each attribute of `buffer` (a message's payload after its fixed
    /// header, or a nest's payload), until a callback says stop or error.
    @inlinable
    public static func forEachAttribute(
        in buffer: UnsafeRawBufferPointer,
        _ body: (NetlinkAttribute) -> NetlinkCallbackResult
    ) -> NetlinkWalkResult {
        let header = Netlink.attributeHeaderSize
        var offset = 0
        // As in forEachMessage: offsets checked first, arithmetic wrapping.
        while offset < buffer.count {
            guard buffer.count &- offset >= header else { return .malformed }
            let length = Int(buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let rawType = buffer.loadUnaligned(fromByteOffset: offset &+ 2, as: UInt16.self)
            guard length >= header, length <= buffer.count &- offset else { return .malformed }
            let attribute = NetlinkAttribute(
                type: rawType & Netlink.AttributeFlags.typeMask,
                isNested: rawType & Netlink.AttributeFlags.nested != 0,
                payload: UnsafeRawBufferPointer(rebasing: buffer[(offset &+ header)..<(offset &+ length)])
            )
            switch body(attribute) {
            case .ok: break
            case .stop: return .stopped
            case .error: return .failed
            }
            offset = min(offset &+ Netlink.align(length), buffer.count)
        }
        return .complete
    }
}
