internal import CNetfilterQueue
import Netlink

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

    /// CTA_TUPLE_ORIG's payload: CTA_TUPLE_IP and CTA_TUPLE_PROTO.
    private static func parseTuple(_ payload: UnsafeRawBufferPointer, family: UInt8) -> ConntrackEntry? {
        var source: ConntrackAddress?
        var destination: ConntrackAddress?
        var protocolNumber: UInt8?
        var sourcePort: UInt16?
        var destinationPort: UInt16?
        var icmpID: UInt16?
        var icmpType: UInt8?
        var icmpCode: UInt8?
        let walk = NetlinkReader.forEachAttribute(in: payload) { nest in
            switch nest.type {
            case UInt16(CTA_TUPLE_IP.rawValue):
                let inner = NetlinkReader.forEachAttribute(in: nest.payload) { value in
                    switch value.type {
                    case UInt16(CTA_IP_V4_SRC.rawValue), UInt16(CTA_IP_V4_DST.rawValue):
                        guard family == UInt8(AF_INET), value.payload.count == 4, let raw = value.bigEndianU32 else {
                            return .error
                        }
                        if value.type == UInt16(CTA_IP_V4_SRC.rawValue) {
                            source = .v4(raw)
                        } else {
                            destination = .v4(raw)
                        }
                    case UInt16(CTA_IP_V6_SRC.rawValue), UInt16(CTA_IP_V6_DST.rawValue):
                        guard family == UInt8(AF_INET6), value.payload.count == 16,
                            let high = value.bigEndianU64(at: 0), let low = value.bigEndianU64(at: 8)
                        else { return .error }
                        let address = ConntrackAddress.v6(high: high, low: low)
                        if value.type == UInt16(CTA_IP_V6_SRC.rawValue) {
                            source = address
                        } else {
                            destination = address
                        }
                    default:
                        break
                    }
                    return .ok
                }
                return inner == .complete ? .ok : .error
            case UInt16(CTA_TUPLE_PROTO.rawValue):
                let inner = NetlinkReader.forEachAttribute(in: nest.payload) { value in
                    switch value.type {
                    case UInt16(CTA_PROTO_NUM.rawValue):
                        protocolNumber = value.u8
                        return protocolNumber != nil ? .ok : .error
                    case UInt16(CTA_PROTO_SRC_PORT.rawValue), UInt16(CTA_PROTO_DST_PORT.rawValue),
                        UInt16(CTA_PROTO_ICMP_ID.rawValue), UInt16(CTA_PROTO_ICMPV6_ID.rawValue):
                        guard let number = value.bigEndianU16 else { return .error }
                        if value.type == UInt16(CTA_PROTO_SRC_PORT.rawValue) {
                            sourcePort = number
                        } else if value.type == UInt16(CTA_PROTO_DST_PORT.rawValue) {
                            destinationPort = number
                        } else {
                            icmpID = number
                        }
                    case UInt16(CTA_PROTO_ICMP_TYPE.rawValue), UInt16(CTA_PROTO_ICMPV6_TYPE.rawValue):
                        icmpType = value.u8
                        return icmpType != nil ? .ok : .error
                    case UInt16(CTA_PROTO_ICMP_CODE.rawValue), UInt16(CTA_PROTO_ICMPV6_CODE.rawValue):
                        icmpCode = value.u8
                        return icmpCode != nil ? .ok : .error
                    default:
                        break
                    }
                    return .ok
                }
                return inner == .complete ? .ok : .error
            default:
                return .ok
            }
        }
        guard walk == .complete, let source, let destination, let protocolNumber else { return nil }
        var icmp: ConntrackEntry.ICMPKey?
        if let icmpID, let icmpType, let icmpCode {
            icmp = ConntrackEntry.ICMPKey(id: icmpID, type: icmpType, code: icmpCode)
        }
        // A deletion must name both ports or neither.
        if (sourcePort == nil) != (destinationPort == nil) { return nil }
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
