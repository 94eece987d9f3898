import Netlink

/// The netlink requests of the rule watch and the reading of their answers, as bytes (no
/// socket: tested from bytes). Over NETLINK_NETFILTER:
///
/// - nf_tables (NFNL_SUBSYS_NFTABLES): a GETCHAIN and a GETRULE dump of one table (`mangle`,
///   `filter`) of family NFPROTO_IPV4 / NFPROTO_IPV6, which is where iptables-nft keeps its
///   rules. Each rule becomes a `RuleShape` from its `immediate` verdict, its x_tables
///   `target` (NFQUEUE's xt_NFQ_info_v3 read as iptables does) or a native `queue`.
/// - ipset (NFNL_SUBSYS_IPSET): IPSET_CMD_HEADER per set name, answered with the set's header
///   (it exists) or an error (ENOENT: it does not), then the acknowledgement.
public enum RuleWatchMessage {
    static let nftablesSubsystem: UInt16 = 10
    static let ipsetSubsystem: UInt16 = 6
    static let getChain: UInt16 = 4
    static let getRule: UInt16 = 7
    static let newChain: UInt16 = 3
    static let newRule: UInt16 = 6
    static let ipsetHeader: UInt16 = 12
    /// NFNLGRP_NFTABLES: every nf_tables change is announced to this multicast group.
    public static let nftablesGroup: UInt32 = 7

    /// NFPROTO_IPV4 / NFPROTO_IPV6 (= AF_INET / AF_INET6).
    public static func nfproto(_ family: RuleSettings.Family) -> UInt8 { family == .ipv4 ? 2 : 10 }

    /// A dump of `table`'s chains (`rules: false`) or rules (`rules: true`) in `family`.
    public static func dumpRequest(rules: Bool, family: RuleSettings.Family, table: String, sequence: UInt32)
        -> [UInt8]
    {
        var writer = NetlinkWriter()
        let type = nftablesSubsystem << 8 | (rules ? getRule : getChain)
        let start = writer.beginMessage(
            type: type,
            flags: Netlink.Flags.request | Netlink.Flags.dump,
            sequence: sequence
        )
        writer.putNetfilterHeader(family: nfproto(family))
        // NFTA_RULE_TABLE = NFTA_CHAIN_TABLE = 1.
        putString(&writer, type: 1, table)
        writer.endMessage(start)
        return writer.bytes
    }

    /// An IPSET_CMD_HEADER request for `set`, acknowledged.
    public static func ipsetHeaderRequest(set: String, sequence: UInt32) -> [UInt8] {
        var writer = NetlinkWriter()
        let start = writer.beginMessage(
            type: ipsetSubsystem << 8 | ipsetHeader,
            flags: Netlink.Flags.request | Netlink.Flags.acknowledge,
            sequence: sequence
        )
        writer.putNetfilterHeader(family: 2)
        writer.putAttribute(type: 1, u8: 7)  // IPSET_ATTR_PROTOCOL = IPSET_PROTOCOL
        putString(&writer, type: 2, set)  // IPSET_ATTR_SETNAME
        writer.endMessage(start)
        return writer.bytes
    }

    /// What one datagram of a dump said.
    public enum DumpProgress: Equatable {
        /// More datagrams follow.
        case more
        /// NLMSG_DONE seen.
        case done
        /// An error (errno, positive) or a malformed datagram (EBADMSG).
        case failed(Int32)
    }

    /// Reads one datagram of a chain or rule dump into `table`: a NEWCHAIN creates the
    /// chain's entry, a NEWRULE appends its shape to its chain.
    public static func readDump(_ datagram: UnsafeRawBufferPointer, into table: inout ObservedTable) -> DumpProgress {
        var progress = DumpProgress.more
        let walk = NetlinkReader.forEachMessage(in: datagram) { message in
            // NLM_F_DUMP_INTR: the ruleset changed during the dump; its answer is not one state.
            if message.flags & Netlink.Flags.dumpInterrupted != 0 {
                progress = .failed(4)
                return .stop
            }
            if message.type == Netlink.MessageType.done {
                progress = .done
                return .stop
            }
            if let code = message.errorCode {
                progress = code == 0 ? .done : .failed(code)
                return .stop
            }
            guard let attributes = message.netfilterAttributes else { return .ok }
            switch message.type {
            case nftablesSubsystem << 8 | newChain:
                // NFTA_CHAIN_NAME = 3.
                if let name = string(attributes, type: 3), table.chains[name] == nil { table.chains[name] = [] }
            case nftablesSubsystem << 8 | newRule:
                // NFTA_RULE_CHAIN = 2, NFTA_RULE_EXPRESSIONS = 4.
                guard let chain = string(attributes, type: 2) else { return .ok }
                var shape = RuleShape(target: "")
                _ = NetlinkReader.forEachAttribute(in: attributes) { attribute in
                    if attribute.type == 4 { shape = ruleShape(expressions: attribute.payload) }
                    return .ok
                }
                table.chains[chain, default: []].append(shape)
            default: break
            }
            return .ok
        }
        if walk == .malformed { return .failed(Netlink.badMessage) }
        return progress
    }

    /// The shape of a rule from its NFTA_RULE_EXPRESSIONS.
    static func ruleShape(expressions: UnsafeRawBufferPointer) -> RuleShape {
        var shape = RuleShape(target: "")
        _ = NetlinkReader.forEachAttribute(in: expressions) { element in
            guard let name = string(element.payload, type: 1) else { return .ok }  // NFTA_EXPR_NAME
            _ = NetlinkReader.forEachAttribute(in: element.payload) { data in
                guard data.type == 2 else { return .ok }  // NFTA_EXPR_DATA
                switch name {
                case "immediate": if let target = verdict(data.payload) { shape = RuleShape(target: target) }
                case "target": shape = compatTarget(data.payload)
                case "queue": shape = nativeQueue(data.payload)
                default: break
                }
                return .ok
            }
            return .ok
        }
        return shape
    }

    /// The verdict of an `immediate` expression's data (NFTA_IMMEDIATE_DATA > NFTA_DATA_VERDICT).
    static func verdict(_ data: UnsafeRawBufferPointer) -> String? {
        var result: String?
        _ = NetlinkReader.forEachAttribute(in: data) { immediate in
            guard immediate.type == 2 else { return .ok }
            _ = NetlinkReader.forEachAttribute(in: immediate.payload) { value in
                guard value.type == 2 else { return .ok }
                let code = readValue(value.payload, type: 1).map { Int32(bitPattern: $0) }
                let chain = string(value.payload, type: 2)
                switch code {
                case 0: result = "DROP"
                case 1: result = "ACCEPT"
                case -5: result = "RETURN"
                case -3, -4: result = chain ?? "?"
                default: result = code.map { "verdict \($0)" }
                }
                return .ok
            }
            return .ok
        }
        return result
    }

    /// An x_tables target kept by iptables-nft (NFTA_TARGET_NAME, _REV, _INFO in host order).
    static func compatTarget(_ data: UnsafeRawBufferPointer) -> RuleShape {
        let name = string(data, type: 1) ?? ""
        guard name == "NFQUEUE" else { return RuleShape(target: name) }
        let revision = readValue(data, type: 2) ?? 0
        var info: [UInt8] = []
        _ = NetlinkReader.forEachAttribute(in: data) { attribute in
            if attribute.type == 3 { info = Array(attribute.payload) }
            return .ok
        }
        func field(_ offset: Int) -> UInt16 {
            info.count >= offset + 2
                ? info.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt16.self) } : 0
        }
        let count = revision >= 1 ? field(2) : 1
        let flags = revision >= 2 ? field(4) : 0
        return RuleShape(target: "NFQUEUE", queue: .init(first: field(0), count: count, flags: flags))
    }

    /// A native `queue` expression (NFTA_QUEUE_NUM, _TOTAL, _FLAGS, big-endian u16).
    static func nativeQueue(_ data: UnsafeRawBufferPointer) -> RuleShape {
        var queue = RuleShape.QueueTarget(first: 0, count: 1, flags: 0)
        _ = NetlinkReader.forEachAttribute(in: data) { attribute in
            switch attribute.type {
            case 1: queue.first = attribute.bigEndianU16 ?? 0
            case 2: queue.count = attribute.bigEndianU16 ?? 1
            case 3: queue.flags = attribute.bigEndianU16 ?? 0
            default: break
            }
            return .ok
        }
        return RuleShape(target: "NFQUEUE", queue: queue)
    }

    /// Reads one IPSET_CMD_HEADER answer datagram: `.done` with the sequences whose set
    /// exists (a header came) and the acknowledged ones (`answered`).
    public static func readIpsetAnswers(
        _ datagram: UnsafeRawBufferPointer,
        present: inout Set<UInt32>,
        answered: inout Set<UInt32>
    ) {
        _ = NetlinkReader.forEachMessage(in: datagram) { message in
            if message.errorCode != nil {
                answered.insert(message.sequence)
            } else if message.type == ipsetSubsystem << 8 | ipsetHeader {
                present.insert(message.sequence)
            }
            return .ok
        }
    }

    /// The NUL-terminated string attribute `type` of `attributes`.
    static func string(_ attributes: UnsafeRawBufferPointer, type: UInt16) -> String? {
        var result: String?
        _ = NetlinkReader.forEachAttribute(in: attributes) { attribute in
            guard attribute.type == type else { return .ok }
            result = String(decoding: attribute.payload.prefix { $0 != 0 }, as: UTF8.self)
            return .stop
        }
        return result
    }

    /// The big-endian u32 attribute `type` of `attributes`.
    static func readValue(_ attributes: UnsafeRawBufferPointer, type: UInt16) -> UInt32? {
        var result: UInt32?
        _ = NetlinkReader.forEachAttribute(in: attributes) { attribute in
            guard attribute.type == type else { return .ok }
            result = attribute.bigEndianU32
            return .stop
        }
        return result
    }

    static func putString(_ writer: inout NetlinkWriter, type: UInt16, _ text: String) {
        Array(text.utf8 + [0]).withUnsafeBytes { writer.putAttribute(type: type, payload: $0) }
    }
}
