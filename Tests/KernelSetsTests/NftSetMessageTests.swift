import Netlink
import Testing

@testable import KernelSets

/// The nf_tables requests against the bytes nft 1.0.6 sends. Captured in a scratch namespace
/// (`unshare -n`, table `inet t`, set `s` `{ type ipv4_addr; flags dynamic,timeout; timeout 60s;
/// counter; size 1024; }`, interval sets `a`/`a6`, a rule `ip saddr @s drop`) with
///
///     strace -f -e trace=sendmsg,sendto -e write=3 nft flush set inet t s
///
/// and likewise for each command below. Compared message by message, sequence numbers, port ids
/// and padding aside, with two intended differences: the client sets NLM_F_ACK on each change
/// (it reads an answer per request), and leaves out NFTA_SET_ELEM_LIST_SET_ID (nft numbers the
/// sets of its own batch; the kernel finds an existing set by name).
@Suite struct NftSetMessageTests {
    static let setID: UInt16 = 4

    private func ours(_ build: (inout NetlinkWriter) -> Void) -> CapturedMessage {
        var writer = NetlinkWriter()
        build(&writer)
        return CapturedMessage.parse(writer.bytes)[0]
    }

    /// Message `index` of a captured batch or dump, as the client sends it: NLM_F_ACK added to
    /// a change, NFTA_SET_ELEM_LIST_SET_ID left out.
    private func captured(_ hex: String, _ index: Int, acknowledged: Bool = true) -> CapturedMessage {
        var message = CapturedMessage.parse(hex: hex)[index]
        if acknowledged { message.flags |= Netlink.Flags.acknowledge }
        message.attributes.removeAll {
            if case .leaf(let type, _) = $0 { return type == Self.setID }
            return false
        }
        return message
    }

    static let addBatch =
        "140000001000010000000000000000000000000a4c0000000c0a0104010000000000000001000000060001007400000006000200730000000800040000000001200003801c0001800c000400000000000000ea600c0001800800010001020304140000001100010002000000000000000000000a"

    @Test func anElementAddAndTheBatchMarkersAreNfts() {
        let add = ours {
            NftSetMessage.appendElement(
                table: "t",
                set: "s",
                address: .v4(0x0102_0304),
                timeoutMilliseconds: 60_000,
                sequence: 1,
                to: &$0
            )
        }
        #expect(add == captured(Self.addBatch, 1))
        let begin = ours { NftSetMessage.appendBatchMarker(end: false, sequence: 1, to: &$0) }
        #expect(begin == captured(Self.addBatch, 0, acknowledged: false))
        let end = ours { NftSetMessage.appendBatchMarker(end: true, sequence: 1, to: &$0) }
        #expect(end == captured(Self.addBatch, 2, acknowledged: false))
    }

    @Test func aFlushIsNftFlushSet() {
        let flush = ours { NftSetMessage.appendFlush(table: "t", set: "s", sequence: 1, to: &$0) }
        let capture =
            "140000001000010000000000000000000000000a240000000e0a010001000000000000000100000006000200730000000600010074000000140000001100010002000000000000000000000a"
        #expect(flush == captured(capture, 1))
    }

    /// `nft add element inet t a { 10.0.0.0/8, 192.0.2.1, 198.51.100.0/24 }`: an interval end at
    /// 0.0.0.0 first, then each range's start and the address after it, flagged INTERVAL_END.
    @Test func intervalsAreNftAddElementOfPrefixes() {
        let prefixes = [
            SetPrefix(address: .v4(0x0a00_0000), length: 8), SetPrefix(address: .v4(0xc000_0201), length: 32),
            SetPrefix(address: .v4(0xc633_6400), length: 24),
        ]
        let add = ours {
            NftSetMessage.appendIntervals(
                table: "t",
                set: "a",
                ranges: NftSetClient.ranges(prefixes),
                zero: .v4(0),
                sequence: 1,
                to: &$0
            )
        }
        let capture =
            "140000001000010000000000000000000000000ac00000000c0a0104010000000000000001000000060001007400000006000200610000000800040000000002940003801800018008000300000000010c0001800800010000000000100002800c000180080001000a0000001800038008000300000000010c000180080001000b000000100004800c00018008000100c00002011800058008000300000000010c00018008000100c0000202100006800c00018008000100c63364001800078008000300000000010c00018008000100c6336500140000001100010002000000000000000000000a"
        #expect(add == captured(capture, 1))
        let ipv6 = ours {
            NftSetMessage.appendIntervals(
                table: "t",
                set: "a6",
                ranges: NftSetClient.ranges([
                    SetPrefix(address: .v6(high: 0x2001_0db8_0000_0000, low: 0), length: 32),
                    SetPrefix(address: .v6(high: 0, low: 1), length: 128),
                ]),
                zero: .v6(high: 0, low: 0),
                sequence: 1,
                to: &$0
            )
        }
        let capture6 =
            "140000001000010000000000000000000000000ad40000000c0a0104010000000000000001000000060001007400000007000200613600000800040000000003a80003802400018008000300000000011800018014000100000000000000000000000000000000001c0002801800018014000100000000000000000000000000000000012400038008000300000000011800018014000100000000000000000000000000000000021c000480180001801400010020010db8000000000000000000000000240005800800030000000001180001801400010020010db9000000000000000000000000140000001100010002000000000000000000000a"
        #expect(ipv6 == captured(capture6, 1))
    }

    @Test func theReadsAreNfts() {
        let list = "240000000d0a010300000000000000000100000006000200730000000600010074000000"
        let elements = ours { NftSetMessage.appendListElements(table: "t", set: "s", sequence: 1, to: &$0) }
        #expect(elements == captured(list, 0, acknowledged: false))
        let getSet = "240000000a0a05000000000000000000010000000600010074007d44060002007300265e"
        let info = ours { NftSetMessage.appendGetSet(table: "t", set: "s", sequence: 1, to: &$0) }
        #expect(info == captured(getSet, 0, acknowledged: false))
        let getRule = "1c000000070a01030000000000000000010000000600010074001295"
        let rules = ours { NftSetMessage.appendListRules(table: "t", sequence: 1, to: &$0) }
        #expect(rules == captured(getRule, 0, acknowledged: false))
    }

    @Test func rangesJoinOverlapsAndNeighbours() {
        let ranges = NftSetClient.ranges([
            SetPrefix(address: .v4(0x0a00_0000), length: 8), SetPrefix(address: .v4(0x0a01_0000), length: 16),
            SetPrefix(address: .v4(0x0b00_0000), length: 8), SetPrefix(address: .v4(0xffff_ffff), length: 32),
        ])
        #expect(ranges.count == 2)
        #expect(ranges[0].first == .v4(0x0a00_0000) && ranges[0].last == .v4(0x0bff_ffff))
        #expect(ranges[1].last.successor == nil)
    }
}
