@testable import Netlink
import Testing

@testable import Rules

/// The rule watch's netlink requests byte for byte, and its reading of nf_tables dumps and
/// ipset answers built as the kernel lays them out.
@Suite struct RuleWatchMessageTests {
    @Test func ruleDumpRequestIsAnNfTablesGetRuleDumpOfOneTable() {
        let bytes = RuleWatchMessage.dumpRequest(rules: true, family: .ipv6, table: "mangle", sequence: 9)
        // nlmsghdr: len 32, type NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETRULE, REQUEST|DUMP, seq 9, port 0.
        #expect(
            bytes == [
                32, 0, 0, 0, 0x07, 0x0a, 0x01, 0x03, 9, 0, 0, 0, 0, 0, 0, 0,
                // nfgenmsg: NFPROTO_IPV6, version 0, res_id 0.
                10, 0, 0, 0,
                // NFTA_RULE_TABLE "mangle\0", padded.
                11, 0, 1, 0, 0x6d, 0x61, 0x6e, 0x67, 0x6c, 0x65, 0, 0,
            ]
        )
        let chains = RuleWatchMessage.dumpRequest(rules: false, family: .ipv4, table: "filter", sequence: 1)
        #expect(chains[4] == 0x04 && chains[5] == 0x0a && chains[16] == 2)
    }

    @Test func ipsetHeaderRequestIsAcknowledgedWithProtocolAndName() {
        let bytes = RuleWatchMessage.ipsetHeaderRequest(set: "exitblock-drop4", sequence: 3)
        // type NFNL_SUBSYS_IPSET << 8 | IPSET_CMD_HEADER, REQUEST|ACK.
        #expect(Array(bytes[4..<8]) == [0x0c, 0x06, 0x05, 0x00])
        #expect(Array(bytes[16..<20]) == [2, 0, 0, 0])
        #expect(Array(bytes[20..<25]) == [5, 0, 1, 0, 7])  // IPSET_ATTR_PROTOCOL 7
        #expect(Array(bytes[28..<32]) == [20, 0, 2, 0])  // IPSET_ATTR_SETNAME, 15 bytes + NUL
        #expect(Int(bytes[0]) == bytes.count)
    }

    /// A NEWRULE message of `chain` holding `expressions` (name, data writer) in order.
    static func newRule(
        chain: String,
        _ expressions: [(String, (inout NetlinkWriter) -> Void)],
        flags: UInt16 = Netlink.Flags.multipart
    ) -> [UInt8] {
        var writer = NetlinkWriter()
        let start = writer.beginMessage(type: 0x0a06, flags: flags)
        writer.putNetfilterHeader(family: 2)
        RuleWatchMessage.putString(&writer, type: 1, "mangle")
        RuleWatchMessage.putString(&writer, type: 2, chain)
        let list = writer.beginNest(type: 4)
        for (name, data) in expressions {
            let element = writer.beginNest(type: 1)
            RuleWatchMessage.putString(&writer, type: 1, name)
            let nest = writer.beginNest(type: 2)
            data(&writer)
            writer.endNest(nest)
            writer.endNest(element)
        }
        writer.endNest(list)
        writer.endMessage(start)
        return writer.bytes
    }

    static func verdict(_ code: Int32, chain: String? = nil) -> (inout NetlinkWriter) -> Void {
        { writer in
            writer.putAttribute(type: 1, bigEndian: UInt32(0))  // NFTA_IMMEDIATE_DREG: the verdict register
            let data = writer.beginNest(type: 2)
            let verdict = writer.beginNest(type: 2)
            writer.putAttribute(type: 1, bigEndian: UInt32(bitPattern: code))
            if let chain { RuleWatchMessage.putString(&writer, type: 2, chain) }
            writer.endNest(verdict)
            writer.endNest(data)
        }
    }

    static func nfqueue(first: UInt16, count: UInt16, flags: UInt16) -> (inout NetlinkWriter) -> Void {
        { writer in
            RuleWatchMessage.putString(&writer, type: 1, "NFQUEUE")
            writer.putAttribute(type: 2, bigEndian: UInt32(3))
            // xt_NFQ_info_v3 in host order, as iptables-nft hands it over.
            let info = [first, count, flags].flatMap { value in withUnsafeBytes(of: value) { Array($0) } }
            info.withUnsafeBytes { writer.putAttribute(type: 3, payload: $0) }
        }
    }

    static func read(_ datagrams: [[UInt8]], into table: inout ObservedTable) -> [RuleWatchMessage.DumpProgress] {
        datagrams.map { bytes in bytes.withUnsafeBytes { RuleWatchMessage.readDump($0, into: &table) } }
    }

    static var done: [UInt8] {
        var writer = NetlinkWriter()
        let start = writer.beginMessage(type: Netlink.MessageType.done, flags: Netlink.Flags.multipart)
        writer.appendHost(UInt32(0))
        writer.endMessage(start)
        return writer.bytes
    }

    @Test func readsIptablesNftRulesIntoShapes() {
        let counter: (String, (inout NetlinkWriter) -> Void) = ("counter", { _ in })
        let jump = Self.newRule(chain: "FORWARD", [counter, ("immediate", Self.verdict(-3, chain: "EXITBLOCK"))])
        let drop = Self.newRule(chain: "EXITBLOCK", [("match", { _ in }), counter, ("immediate", Self.verdict(0))])
        let accept = Self.newRule(chain: "EXITBLOCK", [counter, ("immediate", Self.verdict(1))])
        let queue = Self.newRule(chain: "EXITBLOCK", [counter, ("target", Self.nfqueue(first: 7, count: 2, flags: 1))])
        var table = ObservedTable()
        let progress = Self.read([jump + drop, accept + queue, Self.done], into: &table)
        #expect(progress == [.more, .more, .done])
        #expect(table.rules(of: "FORWARD") == [RuleShape(target: "EXITBLOCK")])
        #expect(
            table.rules(of: "EXITBLOCK") == [
                RuleShape(target: "DROP"), RuleShape(target: "ACCEPT"),
                RuleShape(target: "NFQUEUE", queue: .init(first: 7, count: 2, flags: 1)),
            ]
        )
        #expect(table.rules(of: "EXITBLOCK")?.last?.description == "NFQUEUE 7-8 bypass")
    }

    @Test func anInterruptedDumpOrAnErrorIsNoAnswer() {
        let interrupted = Self.newRule(
            chain: "EXITBLOCK",
            [("immediate", Self.verdict(1))],
            flags: Netlink.Flags.multipart | Netlink.Flags.dumpInterrupted
        )
        var table = ObservedTable()
        #expect(Self.read([interrupted], into: &table) == [.failed(4)])
        var writer = NetlinkWriter()
        let start = writer.beginMessage(type: Netlink.MessageType.error, flags: 0)
        writer.appendHost(Int32(-1))
        for _ in 0..<4 { writer.appendHost(UInt32(0)) }
        writer.endMessage(start)
        #expect(Self.read([writer.bytes], into: &table) == [.failed(1)])
        #expect(
            Self.read([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]], into: &table) == [.failed(74)]
        )
    }

    @Test func ipsetAnswersTellWhichSetsExist() {
        var writer = NetlinkWriter()
        // Sequence 1: a header, then the acknowledgement. Sequence 2: ENOENT.
        var start = writer.beginMessage(type: 0x060c, flags: 0, sequence: 1)
        writer.putNetfilterHeader(family: 2)
        writer.endMessage(start)
        for (sequence, code) in [(UInt32(1), Int32(0)), (2, -2)] {
            start = writer.beginMessage(type: Netlink.MessageType.error, flags: 0, sequence: sequence)
            writer.appendHost(code)
            for _ in 0..<4 { writer.appendHost(UInt32(0)) }
            writer.endMessage(start)
        }
        var present = Set<UInt32>()
        var answered = Set<UInt32>()
        writer.bytes.withUnsafeBytes {
            RuleWatchMessage.readIpsetAnswers($0, present: &present, answered: &answered)
        }
        #expect(present == [1])
        #expect(answered == [1, 2])
    }
}
