/// One netlink message inside a received buffer: its header fields and a view of its
/// payload. A view: valid only while the buffer it came from is.
public struct NetlinkMessage {
    public let type: UInt16
    public let flags: UInt16
    public let sequence: UInt32
    public let portID: UInt32
    /// The bytes after the header, up to the message's length (padding excluded).
    public let payload: UnsafeRawBufferPointer

    @inlinable
    public init(type: UInt16, flags: UInt16, sequence: UInt32, portID: UInt32, payload: UnsafeRawBufferPointer) {
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
        self.payload = payload
    }

    /// What an NLMSG_ERROR message says, read as libmnl's mnl_cb_error does: nil for any
    /// other type; 0 for an acknowledgement; else the errno, whatever sign the code has
    /// (the kernel sends -errno); EBADMSG when the payload is shorter than struct nlmsgerr.
    @inlinable
    public var errorCode: Int32? {
        guard type == Netlink.MessageType.error else { return nil }
        guard payload.count >= Netlink.errorPayloadSize else { return Netlink.badMessage }
        let code = payload.loadUnaligned(as: Int32.self)
        // Int32.min has no positive twin (and is no errno); it must not trap.
        return code == .min ? .max : (code < 0 ? -code : code)
    }

    /// The payload after a netfilter header (struct nfgenmsg), or nil when it is too short.
    @inlinable
    public var netfilterAttributes: UnsafeRawBufferPointer? {
        guard payload.count >= Netlink.netfilterHeaderSize else { return nil }
        return UnsafeRawBufferPointer(rebasing: payload[Netlink.netfilterHeaderSize...])
    }

    /// The netfilter header's family byte (AF_INET, AF_INET6, ...), or nil when it is missing.
    @inlinable
    public var netfilterFamily: UInt8? { payload.count >= Netlink.netfilterHeaderSize ? payload[0] : nil }
}
