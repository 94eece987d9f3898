internal import CNetfilterQueue
import Netlink

#if canImport(Glibc)
    import Glibc
#endif

/// Builds ipset netlink requests (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_IPSET) and reads
/// their answers, as bytes: no socket, so it is tested from bytes.
///
/// An IPSET_CMD_ADD is laid out as libipset 7 writes it (`ipset add SET ADDR timeout T
/// -exist`; checked byte for byte in IpsetMessageTests):
///
///     nlmsghdr (flags REQUEST|ACK; no NLM_F_EXCL, so an existing entry gets its timeout renewed)
///     nfgenmsg: family AF_INET (libipset's, for every set family), version 0, res_id 0
///     IPSET_ATTR_PROTOCOL u8 = IPSET_PROTOCOL
///     IPSET_ATTR_SETNAME NUL-terminated string
///     IPSET_ATTR_DATA (nested)
///       IPSET_ATTR_IP (nested)
///         IPSET_ATTR_IPADDR_IPV4 | NET_BYTEORDER, be32   (or _IPV6, 16 bytes)
///       IPSET_ATTR_TIMEOUT | NET_BYTEORDER, be32 seconds
///       IPSET_ATTR_LINENO | NET_BYTEORDER, be32 0        (libipset's restore line; 0 = none)
///
/// The kernel answers each with NLMSG_ERROR: 0 (acknowledged), a negative errno, or a
/// negative ipset code (IPSET_ERR_HASH_FULL when the set is at maxelem).
enum IpsetMessage {
    static func messageType(_ command: UInt32) -> UInt16 {
        UInt16(NFNL_SUBSYS_IPSET) << 8 | UInt16(command)
    }

    static let protocolVersion = UInt8(IPSET_PROTOCOL)
    /// IPSET_ERR_HASH_FULL: the set holds maxelem entries.
    static let hashFull = Int32(IPSET_ERR_HASH_FULL)

    /// Appends an IPSET_CMD_ADD of `address` to set `name` with `timeout` seconds.
    static func appendAdd(
        set name: String,
        address: ConntrackAddress,
        timeout: UInt32,
        sequence: UInt32,
        to bytes: inout [UInt8]
    ) {
        appendElementRequest(
            command: UInt32(IPSET_CMD_ADD.rawValue),
            set: name,
            address: address,
            timeout: timeout,
            sequence: sequence,
            to: &bytes
        )
    }

    /// Appends an IPSET_CMD_DEL of `address` from set `name`.
    static func appendDelete(set name: String, address: ConntrackAddress, sequence: UInt32, to bytes: inout [UInt8]) {
        appendElementRequest(
            command: UInt32(IPSET_CMD_DEL.rawValue),
            set: name,
            address: address,
            timeout: nil,
            sequence: sequence,
            to: &bytes
        )
    }

    private static func appendElementRequest(
        command: UInt32,
        set name: String,
        address: ConntrackAddress,
        timeout: UInt32?,
        sequence: UInt32,
        to bytes: inout [UInt8]
    ) {
        let byteOrder = Netlink.AttributeFlags.networkByteOrder
        var writer = NetlinkWriter(capacity: 96)
        let start = writer.beginMessage(
            type: messageType(command),
            flags: Netlink.Flags.request | Netlink.Flags.acknowledge,
            sequence: sequence
        )
        writer.putNetfilterHeader(family: UInt8(AF_INET))
        writer.putAttribute(type: UInt16(IPSET_ATTR_PROTOCOL), u8: protocolVersion)
        Array(name.utf8 + [0]).withUnsafeBytes { writer.putAttribute(type: UInt16(IPSET_ATTR_SETNAME), payload: $0) }
        let data = writer.beginNest(type: UInt16(IPSET_ATTR_DATA))
        let ip = writer.beginNest(type: UInt16(IPSET_ATTR_IP))
        switch address {
        case .v4(let value):
            writer.putAttribute(type: UInt16(IPSET_ATTR_IPADDR_IPV4) | byteOrder, bigEndian: value)
        case .v6(let high, let low):
            withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) {
                writer.putAttribute(type: UInt16(IPSET_ATTR_IPADDR_IPV6) | byteOrder, payload: $0)
            }
        }
        writer.endNest(ip)
        if let timeout {
            writer.putAttribute(type: UInt16(IPSET_ATTR_TIMEOUT) | byteOrder, bigEndian: timeout)
        }
        writer.putAttribute(type: UInt16(IPSET_ATTR_LINENO) | byteOrder, bigEndian: UInt32(0))
        writer.endNest(data)
        writer.endMessage(start)
        bytes += writer.bytes
    }

    /// Hands every NLMSG_ERROR of one datagram to `onAnswer(sequence, code)` (code 0: done;
    /// else the errno or ipset error number, made positive as `NetlinkMessage.errorCode`
    /// does). Returns false when the datagram was malformed.
    static func walkAnswers(_ datagram: UnsafeRawBufferPointer, onAnswer: (UInt32, Int32) -> Void) -> Bool {
        let walk = NetlinkReader.forEachMessage(in: datagram) { message in
            if let code = message.errorCode { onAnswer(message.sequence, code) }
            return .ok
        }
        return walk != .malformed
    }
}
