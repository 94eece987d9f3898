internal import CNetfilterQueue
import Netlink
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Builds and reads ctnetlink messages (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_CTNETLINK),
/// as bytes: no socket, so it is tested from bytes.
///
/// Layout (every header in host byte order, every attribute payload that is an address,
/// port, id or zone in network byte order, as the kernel writes them):
///
///     nlmsghdr (16) | nfgenmsg: family u8, version u8, res_id be16 (4) | attributes
///     attribute: nla_len u16 (header + payload, unpadded), nla_type u16 (NLA_F_NESTED may
///     be set), payload, padding to 4 bytes
///
/// A dump answer is a series of IPCTNL_MSG_CT_NEW messages, one per entry, closed by
/// NLMSG_DONE; an error comes as NLMSG_ERROR with a negative errno (0 = acknowledgement).
/// Bytes are written and read by the Netlink codec, which checks every length first; a
/// message or attribute that does not fit is counted as malformed, never read past.
enum ConntrackMessage {
    static func messageType(_ message: cntl_msg_types) -> UInt16 {
        UInt16(NFNL_SUBSYS_CTNETLINK) << 8 | UInt16(message.rawValue)
    }

    /// IPCTNL_MSG_CT_NEW: an entry of a dump.
    static let entryType = messageType(IPCTNL_MSG_CT_NEW)

    static func familyCode(_ family: ConntrackFamily) -> UInt8 {
        family == .ipv4 ? UInt8(AF_INET) : UInt8(AF_INET6)
    }

    // MARK: building

    /// IPCTNL_MSG_CT_GET with NLM_F_DUMP: every entry of `family`.
    static func dumpRequest(family: ConntrackFamily, sequence: UInt32) -> [UInt8] {
        var writer = NetlinkWriter(capacity: 32)
        let start = writer.beginMessage(
            type: messageType(IPCTNL_MSG_CT_GET),
            flags: Netlink.Flags.request | Netlink.Flags.dump,
            sequence: sequence
        )
        writer.putNetfilterHeader(family: familyCode(family))
        writer.endMessage(start)
        return writer.bytes
    }

    /// Appends an IPCTNL_MSG_CT_DELETE for `entry` (by original tuple, zone and id) with
    /// NLM_F_ACK, so the kernel answers each one.
    static func appendDeleteRequest(_ entry: ConntrackEntry, sequence: UInt32, to bytes: inout [UInt8]) {
        var writer = NetlinkWriter(capacity: 128)
        let start = writer.beginMessage(
            type: messageType(IPCTNL_MSG_CT_DELETE),
            flags: Netlink.Flags.request | Netlink.Flags.acknowledge,
            sequence: sequence
        )
        writer.putNetfilterHeader(family: familyCode(entry.family))
        let tuple = writer.beginNest(type: UInt16(CTA_TUPLE_ORIG.rawValue))
        let ip = writer.beginNest(type: UInt16(CTA_TUPLE_IP.rawValue))
        switch (entry.source, entry.destination) {
        case (.v4(let source), .v4(let destination)):
            writer.putAttribute(type: UInt16(CTA_IP_V4_SRC.rawValue), bigEndian: source)
            writer.putAttribute(type: UInt16(CTA_IP_V4_DST.rawValue), bigEndian: destination)
        case (.v6(let sourceHigh, let sourceLow), .v6(let destinationHigh, let destinationLow)):
            withUnsafeBytes(of: (sourceHigh.bigEndian, sourceLow.bigEndian)) {
                writer.putAttribute(type: UInt16(CTA_IP_V6_SRC.rawValue), payload: $0)
            }
            withUnsafeBytes(of: (destinationHigh.bigEndian, destinationLow.bigEndian)) {
                writer.putAttribute(type: UInt16(CTA_IP_V6_DST.rawValue), payload: $0)
            }
        default:
            preconditionFailure("a conntrack tuple has one address family")
        }
        writer.endNest(ip)
        let proto = writer.beginNest(type: UInt16(CTA_TUPLE_PROTO.rawValue))
        writer.putAttribute(type: UInt16(CTA_PROTO_NUM.rawValue), u8: entry.protocolNumber)
        if let icmp = entry.icmp {
            let v6 = entry.family == .ipv6
            writer.putAttribute(
                type: UInt16((v6 ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID).rawValue),
                bigEndian: icmp.id
            )
            writer.putAttribute(
                type: UInt16((v6 ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE).rawValue),
                u8: icmp.type
            )
            writer.putAttribute(
                type: UInt16((v6 ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE).rawValue),
                u8: icmp.code
            )
        }
        if let sourcePort = entry.sourcePort, let destinationPort = entry.destinationPort {
            writer.putAttribute(type: UInt16(CTA_PROTO_SRC_PORT.rawValue), bigEndian: sourcePort)
            writer.putAttribute(type: UInt16(CTA_PROTO_DST_PORT.rawValue), bigEndian: destinationPort)
        }
        writer.endNest(proto)
        writer.endNest(tuple)
        if let zone = entry.zone {
            writer.putAttribute(type: UInt16(CTA_ZONE.rawValue), bigEndian: zone)
        }
        if let id = entry.id {
            writer.putAttribute(type: UInt16(CTA_ID.rawValue), bigEndian: id)
        }
        writer.endMessage(start)
        bytes += writer.bytes
    }

    // MARK: reading

    /// What one datagram held, besides the entries handed to the caller.
    struct DatagramEvents: Equatable {
        /// NLMSG_DONE met for the awaited sequence.
        var done = false
        /// Messages that could not be read.
        var malformed = 0
        /// An entry message carried NLM_F_DUMP_INTR.
        var interrupted = false
        /// Entry messages of the awaited sequence.
        var entries = 0
    }

    /// Walks the netlink messages of one datagram. Entry messages (IPCTNL_MSG_CT_NEW) of
    /// sequence `dumpSequence` go to `onEntry`, or count as malformed when unreadable;
    /// NLMSG_ERROR messages go to `onAnswer(sequence, errno)` (errno 0: acknowledgement);
    /// NLMSG_DONE of `dumpSequence` sets `done`. Other messages are skipped. The walk stops
    /// at the first message header that does not fit in the datagram.
    static func walk(
        _ datagram: UnsafeRawBufferPointer,
        dumpSequence: UInt32?,
        onEntry: (ConntrackEntry) -> Void,
        onAnswer: (UInt32, Int32) -> Void
    ) -> DatagramEvents {
        var events = DatagramEvents()
        let walk = NetlinkReader.forEachMessage(in: datagram) { message in
            if let code = message.errorCode {
                onAnswer(message.sequence, code)
            } else if message.type == Netlink.MessageType.done {
                if message.sequence == dumpSequence { events.done = true }
            } else if message.type == messageType(IPCTNL_MSG_CT_NEW), message.sequence == dumpSequence {
                if message.flags & Netlink.Flags.dumpInterrupted != 0 { events.interrupted = true }
                if let entry = parseEntry(message) {
                    events.entries += 1
                    onEntry(entry)
                } else {
                    events.malformed += 1
                }
            }
            return .ok
        }
        if walk == .malformed { events.malformed += 1 }
        return events
    }

    /// Reads one entry message (nfgenmsg + attributes); nil when the original tuple is
    /// missing or does not fit.
    static func parseEntry(_ message: NetlinkMessage) -> ConntrackEntry? {
        guard let family = message.netfilterFamily, let attributes = message.netfilterAttributes,
            family == UInt8(AF_INET) || family == UInt8(AF_INET6)
        else { return nil }
        var tuple: ConntrackEntry?
        var id: UInt32?
        var zone: UInt16?
        let walk = NetlinkReader.forEachAttribute(in: attributes) { attribute in
            switch attribute.type {
            case UInt16(CTA_TUPLE_ORIG.rawValue):
                tuple = parseTuple(attribute.payload, family: family)
                return tuple != nil ? .ok : .error
            case UInt16(CTA_ID.rawValue):
                id = attribute.bigEndianU32
                return id != nil ? .ok : .error
            case UInt16(CTA_ZONE.rawValue):
                zone = attribute.bigEndianU16
                return zone != nil ? .ok : .error
            default:
                return .ok
            }
        }
        guard walk == .complete, var entry = tuple else { return nil }
        entry.id = id
        entry.zone = zone
        return entry
    }

    /// What the attributes of a CTA_TUPLE_ORIG nest said, as they are read.
    private struct TupleFields {
        var source: ConntrackAddress?
        var destination: ConntrackAddress?
        var protocolNumber: UInt8?
        var sourcePort: UInt16?
        var destinationPort: UInt16?
        var icmpID: UInt16?
        var icmpType: UInt8?
        var icmpCode: UInt8?

        /// The entry, when the tuple names both addresses and a protocol (and both ports or neither:
        /// a deletion must name both).
        var entry: ConntrackEntry? {
            guard let source, let destination, let protocolNumber else { return nil }
            if (sourcePort == nil) != (destinationPort == nil) { return nil }
            var icmp: ConntrackEntry.ICMPKey?
            if let icmpID, let icmpType, let icmpCode {
                icmp = ConntrackEntry.ICMPKey(id: icmpID, type: icmpType, code: icmpCode)
            }
            return ConntrackEntry(
                source: source,
                destination: destination,
                protocolNumber: protocolNumber,
                sourcePort: sourcePort,
                destinationPort: destinationPort,
                icmp: icmp
            )
        }
    }

    /// CTA_TUPLE_ORIG's payload: CTA_TUPLE_IP and CTA_TUPLE_PROTO.
    private static func parseTuple(_ payload: UnsafeRawBufferPointer, family: UInt8) -> ConntrackEntry? {
        var fields = TupleFields()
        let walk = NetlinkReader.forEachAttribute(in: payload) { nest in
            let inner: NetlinkWalkResult
            switch nest.type {
            case UInt16(CTA_TUPLE_IP.rawValue):
                inner = NetlinkReader.forEachAttribute(in: nest.payload) {
                    readAddress($0, family: family, into: &fields)
                }
            case UInt16(CTA_TUPLE_PROTO.rawValue):
                inner = NetlinkReader.forEachAttribute(in: nest.payload) { readProtocol($0, into: &fields) }
            default:
                return .ok
            }
            return inner == .complete ? .ok : .error
        }
        return walk == .complete ? fields.entry : nil
    }

    /// One attribute of CTA_TUPLE_IP: a source or destination address of `family`.
    private static func readAddress(
        _ value: NetlinkAttribute,
        family: UInt8,
        into fields: inout TupleFields
    ) -> NetlinkCallbackResult {
        let address: ConntrackAddress
        let isSource: Bool
        switch value.type {
        case UInt16(CTA_IP_V4_SRC.rawValue), UInt16(CTA_IP_V4_DST.rawValue):
            guard family == UInt8(AF_INET), value.payload.count == 4, let raw = value.bigEndianU32 else {
                return .error
            }
            address = .v4(raw)
            isSource = value.type == UInt16(CTA_IP_V4_SRC.rawValue)
        case UInt16(CTA_IP_V6_SRC.rawValue), UInt16(CTA_IP_V6_DST.rawValue):
            guard family == UInt8(AF_INET6), value.payload.count == 16,
                let high = value.bigEndianU64(at: 0), let low = value.bigEndianU64(at: 8)
            else { return .error }
            address = .v6(high: high, low: low)
            isSource = value.type == UInt16(CTA_IP_V6_SRC.rawValue)
        default:
            return .ok
        }
        if isSource { fields.source = address } else { fields.destination = address }
        return .ok
    }

    /// One attribute of CTA_TUPLE_PROTO: the protocol number, the ports, or ICMP's id, type and code.
    private static func readProtocol(_ value: NetlinkAttribute, into fields: inout TupleFields) -> NetlinkCallbackResult
    {
        switch value.type {
        case UInt16(CTA_PROTO_NUM.rawValue):
            fields.protocolNumber = value.u8
            return fields.protocolNumber != nil ? .ok : .error
        case UInt16(CTA_PROTO_SRC_PORT.rawValue):
            fields.sourcePort = value.bigEndianU16
            return fields.sourcePort != nil ? .ok : .error
        case UInt16(CTA_PROTO_DST_PORT.rawValue):
            fields.destinationPort = value.bigEndianU16
            return fields.destinationPort != nil ? .ok : .error
        case UInt16(CTA_PROTO_ICMP_ID.rawValue), UInt16(CTA_PROTO_ICMPV6_ID.rawValue):
            fields.icmpID = value.bigEndianU16
            return fields.icmpID != nil ? .ok : .error
        case UInt16(CTA_PROTO_ICMP_TYPE.rawValue), UInt16(CTA_PROTO_ICMPV6_TYPE.rawValue):
            fields.icmpType = value.u8
            return fields.icmpType != nil ? .ok : .error
        case UInt16(CTA_PROTO_ICMP_CODE.rawValue), UInt16(CTA_PROTO_ICMPV6_CODE.rawValue):
            fields.icmpCode = value.u8
            return fields.icmpCode != nil ? .ok : .error
        default:
            return .ok
        }
    }
}
