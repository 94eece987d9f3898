import Testing

@testable import NetfilterQueue

@Suite struct PacketBurstTests {
    private func parse(_ bytes: [UInt8], awaiting: UInt32? = nil, capacity: Int = 8) -> PacketBurst {
        let burst = PacketBurst(capacity: capacity, slotSize: 1024)
        burst.clear()
        burst.events = ParseEvents()
        bytes.withUnsafeBytes { burst.parseDatagram($0, awaiting: awaiting) }
        return burst
    }

    @Test func parsesAPacketMessage() {
        let payload = NetlinkBytes.ipv4([198, 51, 100, 7], [203, 0, 113, 1])
        let burst = parse(NetlinkBytes.packet(id: 42, payload: payload, capturedLength: 1500))
        #expect(burst.count == 1)
        #expect(burst[0].id == 42)
        #expect(burst[0].hardwareProtocol == 0x0800)
        #expect(burst[0].hook == 1)
        #expect(burst[0].length == 1500)
        #expect(burst[0].header == .ipv4(source: 0xC633_6407, destination: 0xCB00_7101))
        #expect(burst[0].mark == 0)
        #expect(burst.events.malformedMessages == 0)
    }

    /// The worker copies one packet value per packet; past 64 bytes each copy is a `memcpy` call.
    @Test func aPacketValueStaysSmall() {
        #expect(MemoryLayout<QueuedPacket>.stride <= 56)
        var packet = QueuedPacket(id: 1, header: .unparsable(.noPayload), length: 65_535)
        #expect(packet.length == 65_535)
        packet.length = Int(UInt32.max) + 1
        #expect(packet.length == Int(UInt32.max))
    }

    @Test func readsThePacketMark() {
        let payload = NetlinkBytes.ipv4([198, 51, 100, 7], [203, 0, 113, 1])
        let burst = parse(NetlinkBytes.packet(id: 43, payload: payload, mark: 0x4542))
        #expect(burst.count == 1)
        #expect(burst[0].mark == 0x4542)
    }

    @Test func parsesSeveralMessagesInOneDatagram() {
        let v4 = NetlinkBytes.ipv4([1, 2, 3, 4], [5, 6, 7, 8])
        let bytes =
            NetlinkBytes.packet(id: 1, payload: v4) + NetlinkBytes.packet(id: 2, payload: Array(v4.prefix(10)))
            + NetlinkBytes.packet(id: 3, payload: nil)
        let burst = parse(bytes)
        #expect(burst.count == 3)
        #expect(burst[0].header == .ipv4(source: 0x0102_0304, destination: 0x0506_0708))
        #expect(burst[0].length == 20)
        #expect(burst[1].header == .unparsable(.truncated))
        #expect(burst[2].header == .unparsable(.noPayload))
    }

    @Test func aPacketWithoutHeaderAttributeIsCountedNotAnswered() {
        let body: [UInt8] = [0, 0, 0, 0] + NetlinkBytes.attribute(10, NetlinkBytes.ipv4([1, 2, 3, 4], [5, 6, 7, 8]))
        let burst = parse(NetlinkBytes.message(type: 3 << 8, body: body))
        #expect(burst.count == 0)
        #expect(burst.events.malformedMessages == 1)
    }

    @Test func badAttributeLengthKeepsTheIdAndMarksTheHeader() {
        var bytes = NetlinkBytes.packet(id: 9, payload: NetlinkBytes.ipv4([1, 2, 3, 4], [5, 6, 7, 8]))
        // The payload attribute (after nlmsghdr 16, nfgenmsg 4, packet hdr 12, mark 8) claims 200 bytes.
        bytes[40] = 200
        let burst = parse(bytes)
        #expect(burst.count == 1)
        #expect(burst[0].id == 9)
        #expect(burst[0].header == .unparsable(.badMessage))
    }

    @Test func truncatedNetlinkMessagesNeverTrap() {
        let full = NetlinkBytes.packet(id: 5, payload: NetlinkBytes.ipv4([1, 2, 3, 4], [5, 6, 7, 8]))
        for length in 0..<full.count {
            let burst = parse(Array(full.prefix(length)))
            #expect(burst.count == 0 || burst[0].id == 5)
        }
        // A length field of 0 or larger than the datagram stops the walk.
        var zero = full
        zero[0] = 0
        zero[1] = 0
        #expect(parse(zero).events.malformedMessages == 1)
    }

    @Test func errorsAndAcknowledgements() {
        let ack = parse(NetlinkBytes.error(0, sequence: 7), awaiting: 7)
        #expect(ack.events.acknowledgement == 0)
        let refused = parse(NetlinkBytes.error(16, sequence: 8), awaiting: 8)
        #expect(refused.events.acknowledgement == 16)
        // An error answer to a verdict (sequence 0) is a verdict error.
        let verdictError = parse(NetlinkBytes.error(2, sequence: 0), awaiting: 8)
        #expect(verdictError.events.acknowledgement == nil)
        #expect(verdictError.events.verdictErrors == 1)
        #expect(verdictError.events.lastVerdictError == 2)
    }

    /// Found by scripts/fuzz.sh: an error code of Int32.min trapped on negation. Either sign
    /// reads as the errno, as libmnl's mnl_cb_error does.
    @Test func anyErrorCodeIsReadWithoutTrapping() {
        let minimum = NetlinkBytes.message(
            type: 2,
            sequence: 8,
            body: NetlinkBytes.host32(0x8000_0000) + [UInt8](repeating: 0, count: 16)
        )
        #expect(parse(minimum, awaiting: 8).events.acknowledgement == Int32.max)
        let positive = NetlinkBytes.message(
            type: 2,
            sequence: 8,
            body: NetlinkBytes.host32(16) + [UInt8](repeating: 0, count: 16)
        )
        #expect(parse(positive, awaiting: 8).events.acknowledgement == 16)
    }

    @Test func moreMessagesThanCapacityAreCounted() {
        let v4 = NetlinkBytes.ipv4([1, 2, 3, 4], [5, 6, 7, 8])
        let bytes = (1...3).flatMap { NetlinkBytes.packet(id: UInt32($0), payload: v4) }
        let burst = parse(bytes, capacity: 2)
        #expect(burst.count == 2)
        #expect(burst.events.overflow == 1)
        // Kept for the next receive, not left to a later batch verdict.
        #expect(burst.overflowed.map(\.id) == [3])
        burst.clear()
        #expect(burst.overflowed.isEmpty)
    }
}
