import Netlink
import Testing

@testable import KernelSets

/// The ipset requests against the bytes `ipset` 7.17 sends. Captured in a scratch namespace
/// (`unshare -n`; sets `t4`/`t6` hash:ip timeout 60 counters, `n4`/`n4b` hash:net) with
///
///     strace -f -e trace=sendmsg,sendto -e write=3 ipset -exist add t4 192.0.2.7 timeout 30
///
/// and likewise for each command below; the hex of the request (libipset first sends a
/// PROTOCOL and a HEADER or TYPE query, which the client does without) pasted here. Compared
/// message by message, sequence numbers and port ids aside.
@Suite struct IpsetMessageTests {
    private func ours(_ build: (inout NetlinkWriter) -> Void) -> [CapturedMessage] {
        var writer = NetlinkWriter()
        build(&writer)
        return CapturedMessage.parse(writer.bytes)
    }

    private func captured(_ hex: String) -> [CapturedMessage] { CapturedMessage.parse(hex: hex) }

    @Test func anAddIsIpsetExistAdd() {
        let add4 = ours {
            IpsetMessage.appendElement(
                IpsetMessage.add,
                set: "t4",
                address: .v4(0xc000_0207),
                timeout: 30,
                sequence: 1,
                to: &$0
            )
        }
        #expect(
            add4
                == captured(
                    "440000000906050029ce156b000000000200000005000100070000000700020074340000200007800c00018008000140c0000207080006400000001e0800094000000000"
                )
        )
        let add6 = ours {
            IpsetMessage.appendElement(
                IpsetMessage.add,
                set: "t6",
                address: .v6(high: 0x2001_0db8_0000_0000, low: 7),
                timeout: 30,
                sequence: 1,
                to: &$0
            )
        }
        #expect(
            add6
                == captured(
                    "5000000009060500b4c7156b0000000002000000050001000700000007000200743600002c000780180001801400024020010db8000000000000000000000007080006400000001e0800094000000000"
                )
        )
    }

    /// `ipset -exist add t4 192.0.2.7 timeout 30 packets 0 bytes 0`: an add that starts the
    /// entry's counters at 0 (a revived expired entry would keep its old counts otherwise).
    @Test func anAddThatResetsCountersIsIpsetAddWithPacketsAndBytes() {
        let add = ours {
            IpsetMessage.appendElement(
                IpsetMessage.add,
                set: "t4",
                address: .v4(0xc000_0207),
                timeout: 30,
                resetCounters: true,
                sequence: 1,
                to: &$0
            )
        }
        #expect(
            add
                == captured(
                    "5c0000000906050007de156b000000000200000005000100070000000700020074340000380007800c00018008000140c0000207080006400000001e0c00184000000000000000000c00194000000000000000000800094000000000"
                )
        )
    }

    /// `ipset -exist del`: without NLM_F_EXCL, the kernel answers 0 for an entry that expired meanwhile.
    @Test func aDeleteIsIpsetExistDel() {
        let delete = ours {
            IpsetMessage.appendElement(
                IpsetMessage.delete,
                set: "t4",
                address: .v4(0xc000_0207),
                timeout: nil,
                sequence: 1,
                to: &$0
            )
        }
        #expect(
            delete
                == captured(
                    "3c0000000a06050028ce156b000000000200000005000100070000000700020074340000180007800c00018008000140c00002070800094000000000"
                )
        )
    }

    @Test func aNetworkAddIsIpsetExistAddOfAPrefix() {
        let add = ours {
            IpsetMessage.appendElement(
                IpsetMessage.add,
                set: "n4",
                address: .v4(0x0a00_0000),
                prefixLength: 8,
                timeout: nil,
                sequence: 1,
                to: &$0
            )
        }
        #expect(
            add
                == captured(
                    "440000000906050029ce156b00000000020000000500010007000000070002006e340000200007800c000180080001400a00000005000300080000000800094000000000"
                )
        )
    }

    @Test func listHeaderFlushSwapDestroyAreIpsets() {
        let list = ours { IpsetMessage.appendList(set: "t4", headerOnly: false, sequence: 1, to: &$0) }
        #expect(list == captured("2400000007060503b3c7156b000000000200000005000100070000000700020074340000"))
        let header = ours { IpsetMessage.appendList(set: "t4", headerOnly: true, sequence: 1, to: &$0) }
        #expect(
            header
                == captured("2c00000007060503b3c7156b0000000002000000050001000700000007000200743400000800064000000004")
        )
        let flush = ours { IpsetMessage.appendSetCommand(.flush, set: "t4", sequence: 1, to: &$0) }
        #expect(flush == captured("2400000004060500b3c7156b000000000200000005000100070000000700020074340000"))
        let swap = ours { IpsetMessage.appendSwap(set: "n4", with: "n4b", sequence: 1, to: &$0) }
        #expect(
            swap == captured("2c00000006060500b5c7156b00000000020000000500010007000000070002006e340000080003006e346200")
        )
        let destroy = ours { IpsetMessage.appendSetCommand(.destroy, set: "n4b", sequence: 1, to: &$0) }
        #expect(destroy == captured("2400000003060502b5c7156b00000000020000000500010007000000080002006e346200"))
    }

    @Test func createsAreIpsetCreate() {
        let accept = ours {
            IpsetMessage.appendCreate(
                set: "c4",
                spec: IpsetSpec(type: .hashIP, ipv6: false, timeout: 60, maxelem: 262_144, counters: true),
                sequence: 1,
                to: &$0
            )
        }
        #expect(
            accept
                == captured(
                    "5c00000002060506b5c7156b0000000002000000050001000700000007000200633400000c000300686173683a697000050004000600000005000500020000001c000780080006400000003c08000840000000080800134000040000"
                )
        )
        let net6 = ours {
            IpsetMessage.appendCreate(set: "n6", spec: IpsetSpec(type: .hashNet, ipv6: true), sequence: 1, to: &$0)
        }
        #expect(
            net6
                == captured(
                    "4800000002060506b5c7156b00000000020000000500010007000000070002006e3600000d000300686173683a6e6574000000000500040007000000050005000a00000004000780"
                )
        )
        let net4 = ours {
            IpsetMessage.appendCreate(set: "m4", spec: IpsetSpec(type: .hashNet, ipv6: false), sequence: 1, to: &$0)
        }
        #expect(
            net4
                == captured(
                    "480000000206050629ce156b00000000020000000500010007000000070002006d3400000d000300686173683a6e6574000000000500040007000000050005000200000004000780"
                )
        )
    }
}
