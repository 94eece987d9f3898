internal import CNetfilterQueue

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
/// Every read below checks the length first; a message or attribute that does not fit is
/// counted as malformed and skipped, never read past.
enum ConntrackMessage {
    static let headerSize = 16
    static let nfgenSize = 4

    static func messageType(_ message: cntl_msg_types) -> UInt16 {
        UInt16(NFNL_SUBSYS_CTNETLINK) << 8 | UInt16(message.rawValue)
    }

    static func familyCode(_ family: ConntrackFamily) -> UInt8 {
        family == .ipv4 ? UInt8(AF_INET) : UInt8(AF_INET6)
    }

    // MARK: building

    /// IPCTNL_MSG_CT_GET with NLM_F_DUMP: every entry of `family`.
    static func dumpRequest(family: ConntrackFamily, sequence: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        let start = beginMessage(
            &bytes,
            type: messageType(IPCTNL_MSG_CT_GET),
            flags: UInt16(NLM_F_REQUEST) | UInt16(NLM_F_DUMP),
            sequence: sequence,
            family: familyCode(family)
        )
        endMessage(&bytes, start: start)
        return bytes
    }

    /// Appends an IPCTNL_MSG_CT_DELETE for `entry` (by original tuple, zone and id) with
    /// NLM_F_ACK, so the kernel answers each one.
    static func appendDeleteRequest(_ entry: ConntrackEntry, sequence: UInt32, to bytes: inout [UInt8]) {
        let start = beginMessage(
            &bytes,
            type: messageType(IPCTNL_MSG_CT_DELETE),
            flags: UInt16(NLM_F_REQUEST) | UInt16(NLM_F_ACK),
            sequence: sequence,
            family: familyCode(entry.family)
        )
        let tuple = beginNest(&bytes, type: UInt16(CTA_TUPLE_ORIG.rawValue))
        let ip = beginNest(&bytes, type: UInt16(CTA_TUPLE_IP.rawValue))
        switch (entry.source, entry.destination) {
        case (.v4(let source), .v4(let destination)):
            putAttribute(&bytes, type: UInt16(CTA_IP_V4_SRC.rawValue), bigEndian: source)
            putAttribute(&bytes, type: UInt16(CTA_IP_V4_DST.rawValue), bigEndian: destination)
        case (.v6(let sourceHigh, let sourceLow), .v6(let destinationHigh, let destinationLow)):
            putAttribute(&bytes, type: UInt16(CTA_IP_V6_SRC.rawValue), high: sourceHigh, low: sourceLow)
            putAttribute(&bytes, type: UInt16(CTA_IP_V6_DST.rawValue), high: destinationHigh, low: destinationLow)
        default:
            preconditionFailure("a conntrack tuple has one address family")
        }
        endNest(&bytes, start: ip)
        let proto = beginNest(&bytes, type: UInt16(CTA_TUPLE_PROTO.rawValue))
        putAttribute(&bytes, type: UInt16(CTA_PROTO_NUM.rawValue), bytes: [entry.protocolNumber])
        if let icmp = entry.icmp {
            let v6 = entry.family == .ipv6
            putAttribute(
                &bytes,
                type: UInt16((v6 ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID).rawValue),
                bigEndian: icmp.id
            )
            putAttribute(
                &bytes,
                type: UInt16((v6 ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE).rawValue),
                bytes: [icmp.type]
            )
            putAttribute(
                &bytes,
                type: UInt16((v6 ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE).rawValue),
                bytes: [icmp.code]
            )
        }
        if let sourcePort = entry.sourcePort, let destinationPort = entry.destinationPort {
            putAttribute(&bytes, type: UInt16(CTA_PROTO_SRC_PORT.rawValue), bigEndian: sourcePort)
            putAttribute(&bytes, type: UInt16(CTA_PROTO_DST_PORT.rawValue), bigEndian: destinationPort)
        }
        endNest(&bytes, start: proto)
        endNest(&bytes, start: tuple)
        if let zone = entry.zone {
            putAttribute(&bytes, type: UInt16(CTA_ZONE.rawValue), bigEndian: zone)
        }
        if let id = entry.id {
            putAttribute(&bytes, type: UInt16(CTA_ID.rawValue), bigEndian: id)
        }
        endMessage(&bytes, start: start)
    }

    private static func beginMessage(
        _ bytes: inout [UInt8],
        type: UInt16,
        flags: UInt16,
        sequence: UInt32,
        family: UInt8
    ) -> Int {
        let start = bytes.count
        append(&bytes, UInt32(0))  // length, set by endMessage
        append(&bytes, type)
        append(&bytes, flags)
        append(&bytes, sequence)
        append(&bytes, UInt32(0))  // port id: the kernel fills in ours
        bytes += [family, UInt8(NFNETLINK_V0), 0, 0]
        return start
    }

    private static func endMessage(_ bytes: inout [UInt8], start: Int) {
        setLength(&bytes, at: start, UInt32(bytes.count - start), size: 4)
    }

    private static func beginNest(_ bytes: inout [UInt8], type: UInt16) -> Int {
        let start = bytes.count
        append(&bytes, UInt16(0))
        append(&bytes, type | UInt16(NLA_F_NESTED))
        return start
    }

    private static func endNest(_ bytes: inout [UInt8], start: Int) {
        setLength(&bytes, at: start, UInt32(bytes.count - start), size: 2)
    }

    private static func putAttribute(_ bytes: inout [UInt8], type: UInt16, bytes payload: [UInt8]) {
        append(&bytes, UInt16(4 + payload.count))
        append(&bytes, type)
        bytes += payload
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    private static func putAttribute<T: FixedWidthInteger>(_ bytes: inout [UInt8], type: UInt16, bigEndian value: T) {
        putAttribute(&bytes, type: type, bytes: withUnsafeBytes(of: value.bigEndian) { Array($0) })
    }

    private static func putAttribute(_ bytes: inout [UInt8], type: UInt16, high: UInt64, low: UInt64) {
        let payload =
            withUnsafeBytes(of: high.bigEndian) { Array($0) } + withUnsafeBytes(of: low.bigEndian) { Array($0) }
        putAttribute(&bytes, type: type, bytes: payload)
    }

    private static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value) { bytes += $0 }
    }

    private static func setLength(_ bytes: inout [UInt8], at offset: Int, _ length: UInt32, size: Int) {
        if size == 4 {
            withUnsafeBytes(of: length) { for i in 0..<4 { bytes[offset + i] = $0[i] } }
        } else {
            withUnsafeBytes(of: UInt16(truncatingIfNeeded: length)) { for i in 0..<2 { bytes[offset + i] = $0[i] } }
        }
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
        var offset = 0
        while datagram.count - offset >= headerSize {
            let length = Int(datagram.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            guard length >= headerSize, length <= datagram.count - offset else {
                events.malformed += 1
                break
            }
            let type = datagram.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            let flags = datagram.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self)
            let sequence = datagram.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let body = UnsafeRawBufferPointer(rebasing: datagram[(offset + headerSize)..<(offset + length)])
            switch type {
            case UInt16(NLMSG_ERROR):
                if body.count >= 4 {
                    let code = body.loadUnaligned(as: Int32.self)
                    onAnswer(sequence, PacketBurst.errnoMagnitude(code))
                } else {
                    events.malformed += 1
                }
            case UInt16(NLMSG_DONE):
                if sequence == dumpSequence { events.done = true }
            case messageType(IPCTNL_MSG_CT_NEW) where sequence == dumpSequence:
                if flags & UInt16(NLM_F_DUMP_INTR) != 0 { events.interrupted = true }
                if let entry = parseEntry(body) {
                    events.entries += 1
                    onEntry(entry)
                } else {
                    events.malformed += 1
                }
            default:
                break
            }
            offset += min(Int(cnfq_nlmsg_align(UInt32(length))), datagram.count - offset)
        }
        return events
    }

    /// Reads one entry message's body (nfgenmsg + attributes); nil when the original tuple
    /// is missing or does not fit.
    static func parseEntry(_ body: UnsafeRawBufferPointer) -> ConntrackEntry? {
        guard body.count >= nfgenSize else { return nil }
        let family = body[0]
        guard family == UInt8(AF_INET) || family == UInt8(AF_INET6) else { return nil }
        var tuple: ConntrackEntry?
        var id: UInt32?
        var zone: UInt16?
        let readable = forEachAttribute(UnsafeRawBufferPointer(rebasing: body[nfgenSize...])) { type, payload in
            switch type {
            case UInt16(CTA_TUPLE_ORIG.rawValue):
                tuple = parseTuple(payload, family: family)
                return tuple != nil
            case UInt16(CTA_ID.rawValue):
                guard payload.count >= 4 else { return false }
                id = UInt32(bigEndian: payload.loadUnaligned(as: UInt32.self))
            case UInt16(CTA_ZONE.rawValue):
                guard payload.count >= 2 else { return false }
                zone = UInt16(bigEndian: payload.loadUnaligned(as: UInt16.self))
            default:
                break
            }
            return true
        }
        guard readable, var entry = tuple else { return nil }
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
        let readable = forEachAttribute(payload) { type, nested in
            switch type {
            case UInt16(CTA_TUPLE_IP.rawValue):
                return forEachAttribute(nested) { type, value in
                    switch type {
                    case UInt16(CTA_IP_V4_SRC.rawValue), UInt16(CTA_IP_V4_DST.rawValue):
                        guard family == UInt8(AF_INET), value.count == 4 else { return false }
                        let address = ConntrackAddress.v4(UInt32(bigEndian: value.loadUnaligned(as: UInt32.self)))
                        if type == UInt16(CTA_IP_V4_SRC.rawValue) { source = address } else { destination = address }
                    case UInt16(CTA_IP_V6_SRC.rawValue), UInt16(CTA_IP_V6_DST.rawValue):
                        guard family == UInt8(AF_INET6), value.count == 16 else { return false }
                        let address = ConntrackAddress.v6(
                            high: UInt64(bigEndian: value.loadUnaligned(as: UInt64.self)),
                            low: UInt64(bigEndian: value.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                        )
                        if type == UInt16(CTA_IP_V6_SRC.rawValue) { source = address } else { destination = address }
                    default:
                        break
                    }
                    return true
                }
            case UInt16(CTA_TUPLE_PROTO.rawValue):
                return forEachAttribute(nested) { type, value in
                    switch type {
                    case UInt16(CTA_PROTO_NUM.rawValue):
                        guard value.count >= 1 else { return false }
                        protocolNumber = value[0]
                    case UInt16(CTA_PROTO_SRC_PORT.rawValue), UInt16(CTA_PROTO_DST_PORT.rawValue),
                        UInt16(CTA_PROTO_ICMP_ID.rawValue), UInt16(CTA_PROTO_ICMPV6_ID.rawValue):
                        guard value.count >= 2 else { return false }
                        let number = UInt16(bigEndian: value.loadUnaligned(as: UInt16.self))
                        if type == UInt16(CTA_PROTO_SRC_PORT.rawValue) {
                            sourcePort = number
                        } else if type == UInt16(CTA_PROTO_DST_PORT.rawValue) {
                            destinationPort = number
                        } else {
                            icmpID = number
                        }
                    case UInt16(CTA_PROTO_ICMP_TYPE.rawValue), UInt16(CTA_PROTO_ICMPV6_TYPE.rawValue):
                        guard value.count >= 1 else { return false }
                        icmpType = value[0]
                    case UInt16(CTA_PROTO_ICMP_CODE.rawValue), UInt16(CTA_PROTO_ICMPV6_CODE.rawValue):
                        guard value.count >= 1 else { return false }
                        icmpCode = value[0]
                    default:
                        break
                    }
                    return true
                }
            default:
                return true
            }
        }
        guard readable, let source, let destination, let protocolNumber else { return nil }
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

    /// Calls `body(type, payload)` for each attribute of `buffer` (type without the
    /// NLA_F_NESTED / NLA_F_NET_BYTEORDER bits). Returns false, after stopping, when an
    /// attribute header does not fit or `body` returns false.
    static func forEachAttribute(
        _ buffer: UnsafeRawBufferPointer,
        _ body: (UInt16, UnsafeRawBufferPointer) -> Bool
    ) -> Bool {
        var offset = 0
        while offset < buffer.count {
            guard buffer.count - offset >= 4 else { return false }
            let length = Int(buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type =
                buffer.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)
                & ~(UInt16(NLA_F_NESTED) | UInt16(NLA_F_NET_BYTEORDER))
            guard length >= 4, length <= buffer.count - offset else { return false }
            guard body(type, UnsafeRawBufferPointer(rebasing: buffer[(offset + 4)..<(offset + length)])) else {
                return false
            }
            offset += min((length + 3) & ~3, buffer.count - offset)
        }
        return true
    }
}
