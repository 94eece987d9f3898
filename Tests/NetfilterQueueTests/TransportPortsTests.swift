import NetfilterQueue
import Testing

@Suite struct TransportPortsTests {
    /// An IPv4 header of `headerLength` bytes (options zero) with `protocolNumber`, then
    /// ports 0x1234 -> 0x01BB (443).
    static func ipv4(headerLength: Int = 20, protocolNumber: UInt8 = 6, fragment: UInt16 = 0) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: headerLength)
        bytes[0] = 0x40 | UInt8(headerLength / 4)
        bytes[6] = UInt8(fragment >> 8)
        bytes[7] = UInt8(fragment & 0xFF)
        bytes[9] = protocolNumber
        return bytes + [0x12, 0x34, 0x01, 0xBB, 0, 0, 0, 0]
    }

    static func ipv6(next: UInt8, extensions: [UInt8] = []) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 40)
        bytes[0] = 0x60
        bytes[6] = next
        return bytes + extensions + [0x12, 0x34, 0x01, 0xBB]
    }

    @Test func readsIPv4Ports() {
        #expect(TransportPorts(bytes: Self.ipv4()) == .ports(protocolNumber: 6, source: 0x1234, destination: 443))
        #expect(TransportPorts(bytes: Self.ipv4(protocolNumber: 17)).destination == 443)
        // Options inside the copied bytes are skipped.
        #expect(TransportPorts(bytes: Self.ipv4(headerLength: 28)).destination == 443)
        // ICMP: no ports.
        #expect(TransportPorts(bytes: Self.ipv4(protocolNumber: 1)).kind == .otherProtocol)
        // A later fragment has no transport header.
        #expect(TransportPorts(bytes: Self.ipv4(fragment: 0x00B9)).kind == .unread)
        // Ports past the copied bytes.
        #expect(TransportPorts(bytes: Self.ipv4(headerLength: 60).prefix(62)).kind == .unread)
        #expect(TransportPorts(bytes: Self.ipv4().prefix(23)).kind == .unread)
        #expect(TransportPorts(bytes: Self.ipv4().prefix(10)).kind == .otherProtocol)
        // IHL below 5 is nonsense.
        var bad = Self.ipv4()
        bad[0] = 0x44
        #expect(TransportPorts(bytes: bad).kind == .unread)
    }

    @Test func readsIPv6Ports() {
        #expect(
            TransportPorts(bytes: Self.ipv6(next: 6)) == .ports(protocolNumber: 6, source: 0x1234, destination: 443)
        )
        // Hop-by-hop (8 bytes) then UDP.
        let hop: [UInt8] = [17, 0, 0, 0, 0, 0, 0, 0]
        #expect(
            TransportPorts(bytes: Self.ipv6(next: 0, extensions: hop))
                == .ports(protocolNumber: 17, source: 0x1234, destination: 443)
        )
        // A first fragment has the ports; a later one does not.
        let first: [UInt8] = [6, 0, 0, 0, 0, 0, 0, 1]
        #expect(TransportPorts(bytes: Self.ipv6(next: 44, extensions: first)).destination == 443)
        let later: [UInt8] = [6, 0, 0x05, 0xA8, 0, 0, 0, 1]
        #expect(TransportPorts(bytes: Self.ipv6(next: 44, extensions: later)).kind == .unread)
        // Extension header longer than the copy.
        let long: [UInt8] = [6, 10, 0, 0, 0, 0, 0, 0]
        #expect(TransportPorts(bytes: Self.ipv6(next: 60, extensions: long)).kind == .unread)
        #expect(TransportPorts(bytes: Self.ipv6(next: 58)).kind == .otherProtocol)
    }
}
