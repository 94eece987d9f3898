internal import CNetfilterQueue
import Netlink

#if canImport(Glibc)
    import Glibc
#endif

/// Builds ipset netlink requests (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_IPSET) as bytes:
/// no socket, so it is tested from bytes. Every request is laid out as `ipset` 7.17 writes it
/// (checked byte for byte in IpsetMessageTests):
///
///     nlmsghdr: NFNL_SUBSYS_IPSET << 8 | command, REQUEST|ACK (|DUMP for a list, |CREATE|EXCL
///               for a create, |EXCL for a destroy)
///     nfgenmsg: family AF_INET (libipset's, for every set family), version 0, res_id 0
///     IPSET_ATTR_PROTOCOL u8 = IPSET_PROTOCOL
///     IPSET_ATTR_SETNAME NUL-terminated string
///     then per command: SETNAME2 (swap); TYPENAME, REVISION, FAMILY, DATA{TIMEOUT, CADT_FLAGS,
///     MAXELEM} (create); FLAGS (a header-only list); DATA{IP{IPADDR}, CIDR, TIMEOUT, LINENO}
///     (add, del)
///
/// Adds and deletes go without NLM_F_EXCL (as `ipset -exist` sends them): an existing entry
/// gets its timeout renewed, a missing one deletes without error. The kernel answers each
/// with NLMSG_ERROR: 0, a negative errno, or a negative ipset code (IPSET_ERR_HASH_FULL when
/// the set is at maxelem).
public enum IpsetMessage {
    static func messageType(_ command: UInt32) -> UInt16 {
        UInt16(NFNL_SUBSYS_IPSET) << 8 | UInt16(command)
    }

    static let protocolVersion = UInt8(IPSET_PROTOCOL)
    /// IPSET_ERR_HASH_FULL: the set holds maxelem entries.
    public static let hashFull = Int32(IPSET_ERR_HASH_FULL)
    static let familyIPv4 = UInt8(NFPROTO_IPV4)
    static let familyIPv6 = UInt8(NFPROTO_IPV6)
    static let byteOrder = Netlink.AttributeFlags.networkByteOrder
    static let requestAck = Netlink.Flags.request | Netlink.Flags.acknowledge
    /// NLM_F_EXCL and NLM_F_CREATE.
    static let exclusive: UInt16 = 0x200
    static let create: UInt16 = 0x400

    static let add = UInt32(IPSET_CMD_ADD.rawValue)
    static let delete = UInt32(IPSET_CMD_DEL.rawValue)
    static let list = UInt32(IPSET_CMD_LIST.rawValue)

    /// Starts a request for set `name`: header, nfgenmsg, PROTOCOL, SETNAME.
    static func begin(
        _ command: UInt32,
        flags: UInt16,
        set name: String,
        sequence: UInt32,
        to writer: inout NetlinkWriter
    ) -> NetlinkWriter.MessageStart {
        let start = writer.beginMessage(type: messageType(command), flags: flags, sequence: sequence)
        writer.putNetfilterHeader(family: UInt8(AF_INET))
        writer.putAttribute(type: UInt16(IPSET_ATTR_PROTOCOL), u8: protocolVersion)
        writer.putString(type: UInt16(IPSET_ATTR_SETNAME), name)
        return start
    }

    /// Appends an IPSET_CMD_ADD (`timeout` given) or IPSET_CMD_DEL of `address` (a network
    /// when `prefixLength` is given, for a hash:net set).
    static func appendElement(
        _ command: UInt32,
        set name: String,
        address: SetAddress,
        prefixLength: Int? = nil,
        timeout: UInt32?,
        resetCounters: Bool = false,
        sequence: UInt32,
        to writer: inout NetlinkWriter
    ) {
        let start = begin(command, flags: requestAck, set: name, sequence: sequence, to: &writer)
        let data = writer.beginNest(type: UInt16(IPSET_ATTR_DATA))
        let ip = writer.beginNest(type: UInt16(IPSET_ATTR_IP))
        let addressType = address.isIPv4 ? IPSET_ATTR_IPADDR_IPV4 : IPSET_ATTR_IPADDR_IPV6
        writer.putAddress(type: UInt16(addressType) | byteOrder, address)
        writer.endNest(ip)
        if let prefixLength {
            writer.putAttribute(type: UInt16(IPSET_ATTR_CIDR), u8: UInt8(prefixLength))
        }
        if let timeout {
            writer.putAttribute(type: UInt16(IPSET_ATTR_TIMEOUT) | byteOrder, bigEndian: timeout)
        }
        if resetCounters {
            // `packets 0 bytes 0`, as libipset sends them (u64, network order).
            writer.putAttribute(type: UInt16(IPSET_ATTR_BYTES) | byteOrder, bigEndian: UInt64(0))
            writer.putAttribute(type: UInt16(IPSET_ATTR_PACKETS) | byteOrder, bigEndian: UInt64(0))
        }
        // libipset's restore line number; 0: none.
        writer.putAttribute(type: UInt16(IPSET_ATTR_LINENO) | byteOrder, bigEndian: UInt32(0))
        writer.endNest(data)
        writer.endMessage(start)
    }

    /// Appends a command that names one set and nothing else: IPSET_CMD_FLUSH, or
    /// IPSET_CMD_DESTROY (with NLM_F_EXCL, as `ipset destroy` sends it).
    static func appendSetCommand(
        _ command: IpsetCommand,
        set name: String,
        sequence: UInt32,
        to writer: inout NetlinkWriter
    ) {
        let flags = command == .destroy ? requestAck | exclusive : requestAck
        let start = begin(command.number, flags: flags, set: name, sequence: sequence, to: &writer)
        writer.endMessage(start)
    }

    /// Appends an IPSET_CMD_SWAP of sets `name` and `other`.
    static func appendSwap(set name: String, with other: String, sequence: UInt32, to writer: inout NetlinkWriter) {
        let start = begin(
            UInt32(IPSET_CMD_SWAP.rawValue),
            flags: requestAck,
            set: name,
            sequence: sequence,
            to: &writer
        )
        writer.putString(type: UInt16(IPSET_ATTR_SETNAME2), other)
        writer.endMessage(start)
    }

    /// Appends an IPSET_CMD_CREATE of set `name` as `spec` says (NLM_F_EXCL: an existing set is an error).
    static func appendCreate(set name: String, spec: IpsetSpec, sequence: UInt32, to writer: inout NetlinkWriter) {
        let flags = requestAck | exclusive | create
        let start = begin(UInt32(IPSET_CMD_CREATE.rawValue), flags: flags, set: name, sequence: sequence, to: &writer)
        writer.putString(type: UInt16(IPSET_ATTR_TYPENAME), spec.type.rawValue)
        writer.putAttribute(type: UInt16(IPSET_ATTR_REVISION), u8: spec.type.revision)
        writer.putAttribute(type: UInt16(IPSET_ATTR_FAMILY), u8: spec.ipv6 ? familyIPv6 : familyIPv4)
        let data = writer.beginNest(type: UInt16(IPSET_ATTR_DATA))
        if let timeout = spec.timeout {
            writer.putAttribute(type: UInt16(IPSET_ATTR_TIMEOUT) | byteOrder, bigEndian: timeout)
        }
        if spec.counters {
            let flags = UInt32(IPSET_FLAG_WITH_COUNTERS.rawValue)
            writer.putAttribute(type: UInt16(IPSET_ATTR_CADT_FLAGS) | byteOrder, bigEndian: flags)
        }
        if let maxelem = spec.maxelem {
            writer.putAttribute(type: UInt16(IPSET_ATTR_MAXELEM) | byteOrder, bigEndian: maxelem)
        }
        writer.endNest(data)
        writer.endMessage(start)
    }

    /// Appends an IPSET_CMD_LIST dump of set `name`: its header and entries, or (`headerOnly`,
    /// `ipset list -t`) its header alone, which costs the same for any size.
    static func appendList(set name: String, headerOnly: Bool, sequence: UInt32, to writer: inout NetlinkWriter) {
        let flags = requestAck | Netlink.Flags.dump
        let start = begin(list, flags: flags, set: name, sequence: sequence, to: &writer)
        if headerOnly {
            let listFlags = UInt32(IPSET_FLAG_LIST_HEADER.rawValue)
            writer.putAttribute(type: UInt16(IPSET_ATTR_FLAGS) | byteOrder, bigEndian: listFlags)
        }
        writer.endMessage(start)
    }
}
