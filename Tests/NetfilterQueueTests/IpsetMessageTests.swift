import Netlink
import Testing

@testable import NetfilterQueue

/// The ipset requests against the bytes libipset 7.17 sends. Captured with
/// `strace -e trace=sendto -xx ipset add t4 192.0.2.7 timeout 30 -exist` (and the IPv6 twin)
/// in a scratch namespace: only the sequence number differs from run to run, so it is set
/// to the captured one here. Linking libipset into a test would need a kernel socket to see
/// its bytes (it builds and sends in one call); the capture checks the same thing.
@Suite struct IpsetMessageTests {
    static let sequence: UInt32 = 1_796_043_228

    /// nlmsghdr of an ADD (NFNL_SUBSYS_IPSET << 8 | IPSET_CMD_ADD, REQUEST|ACK), nfgenmsg
    /// (AF_INET, v0, res 0), PROTOCOL 7, SETNAME.
    static func head(length: UInt8, set: [UInt8]) -> [UInt8] {
        [length, 0, 0, 0, 0x09, 0x06, 0x05, 0x00]
            + NetlinkBytes.host32(sequence) + [0, 0, 0, 0]
            + [0x02, 0x00, 0x00, 0x00]
            + [0x05, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00]
            + [0x07, 0x00, 0x02, 0x00] + set + [0x00, 0x00]
    }

    @Test func anIPv4AddIsWhatLibipsetSends() {
        // The DATA nest as strace printed it: IP { IPADDR_IPV4 192.0.2.7 }, TIMEOUT 30, LINENO 0.
        let data: [UInt8] = [
            0x20, 0x00, 0x07, 0x80,
            0x0c, 0x00, 0x01, 0x80, 0x08, 0x00, 0x01, 0x40, 0xc0, 0x00, 0x02, 0x07,
            0x08, 0x00, 0x06, 0x40, 0x00, 0x00, 0x00, 0x1e, 0x08, 0x00, 0x09, 0x40, 0x00, 0x00, 0x00, 0x00,
        ]
        var bytes: [UInt8] = []
        IpsetMessage.appendAdd(
            set: "t4",
            address: .v4(0xc000_0207),
            timeout: 30,
            sequence: Self.sequence,
            to: &bytes
        )
        #expect(bytes == Self.head(length: 68, set: [0x74, 0x34]) + data)
    }

    @Test func anIPv6AddIsWhatLibipsetSends() {
        let data: [UInt8] = [
            0x2c, 0x00, 0x07, 0x80,
            0x18, 0x00, 0x01, 0x80, 0x14, 0x00, 0x02, 0x40,
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x08, 0x00, 0x06, 0x40, 0x00, 0x00, 0x00, 0x1e, 0x08, 0x00, 0x09, 0x40, 0x00, 0x00, 0x00, 0x00,
        ]
        var bytes: [UInt8] = []
        IpsetMessage.appendAdd(
            set: "t6",
            address: .v6(high: 0x2001_0db8_0000_0000, low: 1),
            timeout: 30,
            sequence: Self.sequence,
            to: &bytes
        )
        #expect(bytes == Self.head(length: 80, set: [0x74, 0x36]) + data)
    }

    @Test func answersAreReadBySequence() {
        // NLMSG_ERROR (type 2): errno field, then the request's header echoed.
        func answer(_ sequence: UInt32, _ code: Int32) -> [UInt8] {
            let echoed =
                NetlinkBytes.host32(16) + NetlinkBytes.host16(0x0609) + NetlinkBytes.host16(5)
                + NetlinkBytes.host32(sequence) + NetlinkBytes.host32(0)
            return NetlinkBytes.message(
                type: 2,
                sequence: sequence,
                body: NetlinkBytes.host32(UInt32(bitPattern: code)) + echoed
            )
        }
        let datagram = answer(5, 0) + answer(6, -IpsetMessage.hashFull) + answer(7, -2)
        var seen: [UInt32: Int32] = [:]
        let ok = datagram.withUnsafeBytes { IpsetMessage.walkAnswers($0) { seen[$0] = $1 } }
        #expect(ok)
        #expect(seen == [5: 0, 6: 4352, 7: 2])
    }

    @Test func aTruncatedAnswerIsMalformed() {
        let bytes: [UInt8] = [0x40, 0, 0, 0, 2, 0, 0, 0]
        #expect(!bytes.withUnsafeBytes { IpsetMessage.walkAnswers($0) { _, _ in } })
    }
}
