import CNetfilterQueue
import Netlink
import Testing

@testable import Conntrack
import SeededRandom

/// ctnetlink messages as the kernel writes them, built by hand (host-order headers,
/// network-order values, NLA_F_NESTED on nests).
private enum CTBytes {
    static let nested: UInt16 = 0x8000
    static let entryType: UInt16 = 1 << 8 | 0  // NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW

    static func nest(_ type: UInt16, _ content: [UInt8]) -> [UInt8] {
        NetlinkBytes.attribute(type | nested, content)
    }

    static func tuple(
        _ type: UInt16,
        v4 source: [UInt8],
        _ destination: [UInt8],
        proto: UInt8,
        ports: (UInt16, UInt16)
    ) -> [UInt8] {
        nest(
            type,
            nest(1, NetlinkBytes.attribute(1, source) + NetlinkBytes.attribute(2, destination))
                + nest(
                    2,
                    NetlinkBytes.attribute(1, [proto]) + NetlinkBytes.attribute(2, NetlinkBytes.net16(ports.0))
                        + NetlinkBytes.attribute(3, NetlinkBytes.net16(ports.1))
                )
        )
    }

    /// An IPv4 TCP entry 192.0.2.2:40000 -> 192.0.2.18:5599 as a dump lists it: both
    /// tuples, protoinfo, status, timeout, mark, use, id.
    static func tcpEntry(sequence: UInt32, id: UInt32 = 0xdead_beef, flags: UInt16 = 2) -> [UInt8] {
        var body: [UInt8] = [2, 0] + NetlinkBytes.net16(0)  // AF_INET, NFNETLINK_V0
        body += tuple(1, v4: [192, 0, 2, 2], [192, 0, 2, 18], proto: 6, ports: (40000, 5599))
        body += tuple(2, v4: [192, 0, 2, 18], [192, 0, 2, 2], proto: 6, ports: (5599, 40000))
        body += nest(4, nest(1, NetlinkBytes.attribute(1, [3]) + NetlinkBytes.attribute(2, [7])))  // protoinfo
        body += NetlinkBytes.attribute(3, NetlinkBytes.net32(0x18e))  // CTA_STATUS
        body += NetlinkBytes.attribute(7, NetlinkBytes.net32(431_999))  // CTA_TIMEOUT
        body += NetlinkBytes.attribute(8, NetlinkBytes.net32(0))  // CTA_MARK
        body += NetlinkBytes.attribute(11, NetlinkBytes.net32(1))  // CTA_USE
        body += NetlinkBytes.attribute(12, NetlinkBytes.net32(id))  // CTA_ID
        return message(type: entryType, flags: flags, sequence: sequence, body: body)
    }

    /// An IPv6 UDP entry 2001:db8:bad::10:5353 -> 2001:db8:2::2:53 in zone 7.
    static func udp6Entry(sequence: UInt32) -> [UInt8] {
        let source: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad] + [UInt8](repeating: 0, count: 9) + [0x10]
        let destination: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 2] + [UInt8](repeating: 0, count: 9) + [2]
        var body: [UInt8] = [10, 0] + NetlinkBytes.net16(0)  // AF_INET6
        body += nest(
            1,
            nest(1, NetlinkBytes.attribute(3, source) + NetlinkBytes.attribute(4, destination))
                + nest(
                    2,
                    NetlinkBytes.attribute(1, [17]) + NetlinkBytes.attribute(2, NetlinkBytes.net16(5353))
                        + NetlinkBytes.attribute(3, NetlinkBytes.net16(53))
                )
        )
        body += NetlinkBytes.attribute(18, NetlinkBytes.net16(7))  // CTA_ZONE
        body += NetlinkBytes.attribute(12, NetlinkBytes.net32(42))
        return message(type: entryType, flags: 2, sequence: sequence, body: body)
    }

    static func message(type: UInt16, flags: UInt16, sequence: UInt32, body: [UInt8]) -> [UInt8] {
        NetlinkBytes.host32(UInt32(16 + body.count)) + NetlinkBytes.host16(type) + NetlinkBytes.host16(flags)
            + NetlinkBytes.host32(sequence) + NetlinkBytes.host32(0) + body
    }

    /// NLMSG_DONE of a dump (payload: an int, 0).
    static func done(sequence: UInt32) -> [UInt8] {
        message(type: 3, flags: 2, sequence: sequence, body: NetlinkBytes.host32(0))
    }
}

@Suite struct ConntrackMessageTests {
    private let tcp = ConntrackEntry(
        source: .v4(0xc000_0202),
        destination: .v4(0xc000_0212),
        protocolNumber: 6,
        sourcePort: 40000,
        destinationPort: 5599,
        id: 0xdead_beef
    )

    private func walk(_ bytes: [UInt8], dump: UInt32? = 9) -> (ConntrackMessage.DatagramEvents, [ConntrackEntry]) {
        var entries: [ConntrackEntry] = []
        let events = bytes.withUnsafeBytes {
            ConntrackMessage.walk($0, dumpSequence: dump, onEntry: { entries.append($0) }, onAnswer: { _, _ in })
        }
        return (events, entries)
    }

    /// An entry message's view over `body` (nfgenmsg + attributes).
    private static func entryMessage(_ body: UnsafeRawBufferPointer) -> NetlinkMessage {
        NetlinkMessage(type: 1 << 8, flags: 0, sequence: 0, portID: 0, payload: body)
    }

    @Test func dumpRequestLayout() {
        let bytes = ConntrackMessage.dumpRequest(family: .ipv6, sequence: 0x0102_0304)
        let expected =
            NetlinkBytes.host32(20) + NetlinkBytes.host16(0x0101) + NetlinkBytes.host16(0x0301)  // GET, REQUEST|DUMP
            + NetlinkBytes.host32(0x0102_0304) + NetlinkBytes.host32(0) + [10, 0, 0, 0]
        #expect(bytes == expected)
    }

    /// The same deletion built with libmnl's builders.
    @Test func deleteRequestMatchesLibmnl() {
        var ours: [UInt8] = []
        ConntrackMessage.appendDeleteRequest(tcp, sequence: 77, to: &ours)

        var buffer = [UInt8](repeating: 0, count: 512)
        let reference = buffer.withUnsafeMutableBytes { raw -> [UInt8] in
            let header = mnl_nlmsg_put_header(raw.baseAddress)!
            header.pointee.nlmsg_type = UInt16(NFNL_SUBSYS_CTNETLINK) << 8 | UInt16(IPCTNL_MSG_CT_DELETE.rawValue)
            header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
            header.pointee.nlmsg_seq = 77
            let nfg = mnl_nlmsg_put_extra_header(header, 4)!.assumingMemoryBound(to: UInt8.self)
            nfg[0] = UInt8(AF_INET)
            nfg[1] = UInt8(NFNETLINK_V0)
            let tuple = mnl_attr_nest_start(header, UInt16(CTA_TUPLE_ORIG.rawValue))
            let ip = mnl_attr_nest_start(header, UInt16(CTA_TUPLE_IP.rawValue))
            mnl_attr_put_u32(header, UInt16(CTA_IP_V4_SRC.rawValue), UInt32(0xc000_0202).bigEndian)
            mnl_attr_put_u32(header, UInt16(CTA_IP_V4_DST.rawValue), UInt32(0xc000_0212).bigEndian)
            mnl_attr_nest_end(header, ip)
            let proto = mnl_attr_nest_start(header, UInt16(CTA_TUPLE_PROTO.rawValue))
            mnl_attr_put_u8(header, UInt16(CTA_PROTO_NUM.rawValue), 6)
            mnl_attr_put_u16(header, UInt16(CTA_PROTO_SRC_PORT.rawValue), UInt16(40000).bigEndian)
            mnl_attr_put_u16(header, UInt16(CTA_PROTO_DST_PORT.rawValue), UInt16(5599).bigEndian)
            mnl_attr_nest_end(header, proto)
            mnl_attr_nest_end(header, tuple)
            mnl_attr_put_u32(header, UInt16(CTA_ID.rawValue), UInt32(0xdead_beef).bigEndian)
            return Array(raw[0..<Int(header.pointee.nlmsg_len)])
        }
        #expect(ours == reference)
    }

    @Test func parsesADumpDatagram() {
        let datagram = CTBytes.tcpEntry(sequence: 9) + CTBytes.udp6Entry(sequence: 9) + CTBytes.done(sequence: 9)
        let (events, entries) = walk(datagram)
        #expect(events == ConntrackMessage.DatagramEvents(done: true, malformed: 0, interrupted: false, entries: 2))
        #expect(entries.count == 2)
        #expect(entries.first == tcp)
        #expect(
            entries.last
                == ConntrackEntry(
                    source: .v6(high: 0x2001_0db8_0bad_0000, low: 0x10),
                    destination: .v6(high: 0x2001_0db8_0002_0000, low: 2),
                    protocolNumber: 17,
                    sourcePort: 5353,
                    destinationPort: 53,
                    id: 42,
                    zone: 7
                )
        )
        #expect(entries.first?.description == "tcp 192.0.2.2:40000 -> 192.0.2.18:5599")
    }

    @Test func otherSequencesAndAnswers() {
        var answers: [(UInt32, Int32)] = []
        let datagram =
            CTBytes.tcpEntry(sequence: 8) + NetlinkBytes.error(1, sequence: 9) + NetlinkBytes.error(0, sequence: 10)
            + CTBytes.done(sequence: 8)
        var entries = 0
        let events = datagram.withUnsafeBytes {
            ConntrackMessage.walk(
                $0,
                dumpSequence: 9,
                onEntry: { _ in entries += 1 },
                onAnswer: { answers.append(($0, $1)) }
            )
        }
        #expect(entries == 0)
        #expect(!events.done)
        #expect(answers.map(\.0) == [9, 10])
        #expect(answers.map(\.1) == [1, 0])  // EPERM, acknowledgement
    }

    @Test func interruptedDumpIsFlagged() {
        let (events, entries) = walk(CTBytes.tcpEntry(sequence: 9, flags: 2 | 0x10))
        #expect(events.interrupted)
        #expect(entries.count == 1)
    }

    @Test func icmpEntriesRoundTripThroughDeletion() {
        let ping = ConntrackEntry(
            source: .v6(high: 0x2001_0db8_0bad_0000, low: 0x11),
            destination: .v6(high: 0x2001_0db8_0002_0000, low: 2),
            protocolNumber: 58,
            icmp: .init(id: 4242, type: 128, code: 0),
            id: 5
        )
        var bytes: [UInt8] = []
        ConntrackMessage.appendDeleteRequest(ping, sequence: 1, to: &bytes)
        // The deletion carries the tuple in the dump's layout: read it back as an entry.
        let body = Array(bytes[16...])
        #expect(body.withUnsafeBytes { ConntrackMessage.parseEntry(Self.entryMessage($0)) } == ping)
    }

    @Test func randomEntriesRoundTrip() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let v6 = generator.next() & 1 == 1
            func address() -> ConntrackAddress {
                v6
                    ? .v6(high: generator.next(), low: generator.next())
                    : .v4(UInt32(truncatingIfNeeded: generator.next()))
            }
            let ports = generator.next() & 1 == 1
            let entry = ConntrackEntry(
                source: address(),
                destination: address(),
                protocolNumber: ports ? 17 : 47,
                sourcePort: ports ? UInt16(truncatingIfNeeded: generator.next()) : nil,
                destinationPort: ports ? UInt16(truncatingIfNeeded: generator.next()) : nil,
                id: generator.next() & 2 == 0 ? nil : UInt32(truncatingIfNeeded: generator.next()),
                zone: generator.next() & 4 == 0 ? nil : UInt16(truncatingIfNeeded: generator.next())
            )
            var bytes: [UInt8] = []
            ConntrackMessage.appendDeleteRequest(entry, sequence: 1, to: &bytes)
            #expect(Array(bytes[16...]).withUnsafeBytes { ConntrackMessage.parseEntry(Self.entryMessage($0)) } == entry)
        }
    }

    /// Every cut of a valid datagram, and every single-byte change of one, is read without
    /// reading past the end; a cut never yields more entries than it holds whole.
    @Test func damagedDatagramsAreBoundsChecked() {
        let datagram = CTBytes.tcpEntry(sequence: 9) + CTBytes.udp6Entry(sequence: 9) + CTBytes.done(sequence: 9)
        let firstLength = CTBytes.tcpEntry(sequence: 9).count
        for cut in 0..<datagram.count {
            let (events, entries) = walk(Array(datagram[0..<cut]))
            #expect(entries.count <= (cut >= firstLength ? 2 : 0))
            #expect(!events.done)
        }
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<3000 {
            var damaged = datagram
            let index = Int(generator.next() % UInt64(damaged.count))
            damaged[index] = UInt8(truncatingIfNeeded: generator.next())
            let (events, entries) = walk(damaged)
            #expect(entries.count + events.malformed <= 3)
        }
    }

    @Test func entriesWithoutATupleAreMalformed() {
        var body: [UInt8] = [2, 0, 0, 0] + NetlinkBytes.attribute(12, NetlinkBytes.net32(1))
        var (events, entries) = walk(CTBytes.message(type: CTBytes.entryType, flags: 2, sequence: 9, body: body))
        #expect(entries.isEmpty && events.malformed == 1)
        // An IPv6 address in an IPv4 entry.
        body =
            [2, 0, 0, 0] + CTBytes.nest(1, CTBytes.nest(1, NetlinkBytes.attribute(3, [UInt8](repeating: 1, count: 16))))
        (events, entries) = walk(CTBytes.message(type: CTBytes.entryType, flags: 2, sequence: 9, body: body))
        #expect(entries.isEmpty && events.malformed == 1)
        // An attribute longer than its message.
        body = [2, 0, 0, 0] + NetlinkBytes.host16(200) + NetlinkBytes.host16(1) + [0, 0, 0, 0]
        (events, entries) = walk(CTBytes.message(type: CTBytes.entryType, flags: 2, sequence: 9, body: body))
        #expect(entries.isEmpty && events.malformed == 1)
    }
}
