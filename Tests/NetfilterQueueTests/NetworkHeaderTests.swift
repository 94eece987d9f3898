import NetfilterQueue
import Testing

@Suite struct NetworkHeaderTests {
    @Test func readsIPv4Addresses() {
        let header = NetworkHeader(bytes: NetlinkBytes.ipv4([198, 51, 100, 7], [203, 0, 113, 1]))
        #expect(header == .ipv4(source: 0xC633_6407, destination: 0xCB00_7101))
    }

    @Test func readsIPv6Addresses() {
        let source: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
        let destination: [UInt8] = [0xfe, 0x80] + [UInt8](repeating: 0, count: 13) + [2]
        let header = NetworkHeader(bytes: NetlinkBytes.ipv6(source, destination))
        #expect(
            header
                == .ipv6(
                    source: IPv6Words(high: 0x2001_0db8_0000_0000, low: 1),
                    destination: IPv6Words(high: 0xfe80_0000_0000_0000, low: 2)
                )
        )
    }

    @Test func shortOrForeignHeadersAreUnparsable() {
        #expect(NetworkHeader(bytes: []) == .unparsable(.truncated))
        #expect(
            NetworkHeader(bytes: Array(NetlinkBytes.ipv4([1, 2, 3, 4], [5, 6, 7, 8]).prefix(19)))
                == .unparsable(.truncated)
        )
        #expect(NetworkHeader(bytes: [0x60] + [UInt8](repeating: 0, count: 38)) == .unparsable(.truncated))
        #expect(NetworkHeader(bytes: [0x50] + [UInt8](repeating: 0, count: 40)) == .unparsable(.notIP))
        #expect(NetworkHeader(bytes: [0x00]) == .unparsable(.notIP))
    }

    @Test func anyFirstByteAndLengthGetsAnAnswer() {
        // Exhaustive over the version nibble and every length up to 64: never traps.
        for first in 0...255 {
            for length in 0...64 {
                let bytes = [UInt8(first)] + [UInt8](repeating: 0xAB, count: max(0, length - 1))
                let header = NetworkHeader(bytes: Array(bytes.prefix(length)))
                switch (first >> 4, length) {
                case (4, 20...): #expect(header == .ipv4(source: 0xABAB_ABAB, destination: 0xABAB_ABAB))
                case (6, 40...): if case .ipv6 = header {} else { Issue.record("IPv6 expected") }
                default:
                    if case .unparsable = header {} else { Issue.record("unparsable expected for \(first), \(length)") }
                }
            }
        }
    }
}
