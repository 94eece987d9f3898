/// Numbers of <linux/netlink.h> and the alignment rule, spelled once. Netlink headers are in
/// host byte order; attribute payloads in whatever order their family says (netfilter: network).
public enum Netlink {
    /// sizeof(struct nlmsghdr): length u32, type u16, flags u16, sequence u32, port id u32.
    public static let messageHeaderSize = 16
    /// sizeof(struct nlattr): length u16 (header + payload, unpadded), type u16.
    public static let attributeHeaderSize = 4
    /// sizeof(struct nlmsgerr) without extended acknowledgement: error i32 + the request's header.
    public static let errorPayloadSize = 4 + messageHeaderSize
    /// sizeof(struct nfgenmsg): family u8, version u8, resource id be16.
    public static let netfilterHeaderSize = 4

    /// NLMSG_ALIGN / NLA_ALIGN: rounds `length` up to a multiple of 4.
    @inlinable
    public static func align(_ length: Int) -> Int { (length &+ 3) & ~3 }

    /// Control message types (NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN); data
    /// messages have types from NLMSG_MIN_TYPE (0x10) up.
    public enum MessageType {
        public static let noop: UInt16 = 1
        public static let error: UInt16 = 2
        public static let done: UInt16 = 3
        public static let overrun: UInt16 = 4
        public static let minimumDataType: UInt16 = 0x10
    }

    /// nlmsg_flags bits.
    public enum Flags {
        public static let request: UInt16 = 0x1
        public static let multipart: UInt16 = 0x2
        public static let acknowledge: UInt16 = 0x4
        /// NLM_F_DUMP_INTR: the dump changed while it was being read.
        public static let dumpInterrupted: UInt16 = 0x10
        /// NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH.
        public static let dump: UInt16 = 0x300
    }

    /// nla_type bits besides the type.
    public enum AttributeFlags {
        public static let nested: UInt16 = 0x8000
        public static let networkByteOrder: UInt16 = 0x4000
        /// NLA_TYPE_MASK: ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER).
        public static let typeMask: UInt16 = 0x3fff
    }

    /// errno EBADMSG, for an error message too short to carry its code (as mnl_cb_error says).
    public static let badMessage: Int32 = 74
}
