internal import CNetfilterQueue
import Netlink

#if canImport(Glibc)
    import Glibc
#endif

/// Builds nf_tables set requests (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_NFTABLES) as
/// bytes: no socket, so it is tested from bytes. Laid out as nft 1.0.6 writes them (checked
/// in NftSetMessageTests against captures), with NLM_F_ACK added on every change (the client
/// reads an answer per request) and without NFTA_SET_ELEM_LIST_SET_ID (nft numbers the sets
/// of its own batch; the kernel finds an existing set by name).
///
/// Changes go only inside a batch, which the kernel runs as one transaction:
///
///     NFNL_MSG_BATCH_BEGIN  (REQUEST; nfgenmsg AF_UNSPEC, v0, res_id be16 NFNL_SUBSYS_NFTABLES)
///     NFT_MSG_NEWSETELEM / NFT_MSG_DELSETELEM ...
///     NFNL_MSG_BATCH_END    (as BEGIN)
///
/// An element is `NFTA_LIST_ELEM { [FLAGS be32] [TIMEOUT be64 ms] KEY { DATA_VALUE addr } }`;
/// a DELSETELEM without elements empties the set (`nft flush set`). Reads (GETSETELEM,
/// GETRULE dumps; GETSET) go outside batches.
enum NftSetMessage {
    static func messageType(_ message: UInt32) -> UInt16 { UInt16(NFNL_SUBSYS_NFTABLES) << 8 | UInt16(message) }

    static let newElement = messageType(NFT_MSG_NEWSETELEM.rawValue)
    static let deleteElement = messageType(NFT_MSG_DELSETELEM.rawValue)
    static let getElement = messageType(NFT_MSG_GETSETELEM.rawValue)
    static let getSet = messageType(NFT_MSG_GETSET.rawValue)
    static let getRule = messageType(NFT_MSG_GETRULE.rawValue)
    /// NLM_F_CREATE, as nft sends it for `add element`.
    static let create: UInt16 = 0x400
    static let requestAck = Netlink.Flags.request | Netlink.Flags.acknowledge
    static let inet = UInt8(NFPROTO_INET)

    static func attribute(_ value: UInt32) -> UInt16 { UInt16(value) }

    /// Appends NFNL_MSG_BATCH_BEGIN (`end` false) or NFNL_MSG_BATCH_END.
    static func appendBatchMarker(end: Bool, sequence: UInt32, to writer: inout NetlinkWriter) {
        // NFNL_MSG_BATCH_BEGIN is NLMSG_MIN_TYPE, END the next one (macros Swift does not import).
        let type = Netlink.MessageType.minimumDataType + (end ? 1 : 0)
        let start = writer.beginMessage(type: type, flags: Netlink.Flags.request, sequence: sequence)
        writer.putNetfilterHeader(family: UInt8(AF_UNSPEC), resourceID: UInt16(NFNL_SUBSYS_NFTABLES))
        writer.endMessage(start)
    }

    /// Appends an NFT_MSG_NEWSETELEM of one address (with `timeoutMilliseconds`) or an
    /// NFT_MSG_DELSETELEM of it (`timeoutMilliseconds` nil) to set `set` of inet table `table`.
    static func appendElement(
        table: String,
        set: String,
        address: SetAddress,
        timeoutMilliseconds: UInt64?,
        sequence: UInt32,
        to writer: inout NetlinkWriter
    ) {
        let adding = timeoutMilliseconds != nil
        let start = writer.beginMessage(
            type: adding ? newElement : deleteElement,
            flags: requestAck | (adding ? create : 0),
            sequence: sequence
        )
        writer.putNetfilterHeader(family: inet)
        writer.putString(type: attribute(NFTA_SET_ELEM_LIST_TABLE.rawValue), table)
        writer.putString(type: attribute(NFTA_SET_ELEM_LIST_SET.rawValue), set)
        let elements = writer.beginNest(type: attribute(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue))
        appendListElement(index: 1, key: address, end: false, timeoutMilliseconds: timeoutMilliseconds, to: &writer)
        writer.endNest(elements)
        writer.endMessage(start)
    }

    /// One element of an ELEMENTS nest (nft numbers them 1, 2, ...: the kernel reads any type).
    static func appendListElement(
        index: UInt16,
        key: SetAddress,
        end: Bool,
        timeoutMilliseconds: UInt64? = nil,
        to writer: inout NetlinkWriter
    ) {
        let element = writer.beginNest(type: index)
        if end {
            let flags = UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue)
            writer.putAttribute(type: attribute(NFTA_SET_ELEM_FLAGS.rawValue), bigEndian: flags)
        }
        if let timeoutMilliseconds {
            writer.putAttribute(type: attribute(NFTA_SET_ELEM_TIMEOUT.rawValue), bigEndian: timeoutMilliseconds)
        }
        let keyNest = writer.beginNest(type: attribute(NFTA_SET_ELEM_KEY.rawValue))
        writer.putAddress(type: attribute(NFTA_DATA_VALUE.rawValue), key)
        writer.endNest(keyNest)
        writer.endNest(element)
    }

    /// Appends an NFT_MSG_DELSETELEM without elements: every element of the set goes
    /// (`nft flush set inet TABLE SET`, attributes in nft's order: set, then table).
    static func appendFlush(table: String, set: String, sequence: UInt32, to writer: inout NetlinkWriter) {
        let start = writer.beginMessage(type: deleteElement, flags: requestAck, sequence: sequence)
        writer.putNetfilterHeader(family: inet)
        writer.putString(type: attribute(NFTA_SET_ELEM_LIST_SET.rawValue), set)
        writer.putString(type: attribute(NFTA_SET_ELEM_LIST_TABLE.rawValue), table)
        writer.endMessage(start)
    }

    /// Appends an NFT_MSG_NEWSETELEM of intervals (`nft add element inet TABLE SET { a/n, … }`
    /// to a set with `flags interval`): each range's first address, and the address after its
    /// last flagged INTERVAL_END; nft starts with an INTERVAL_END at the family's zero
    /// address unless a range starts there. `ranges` sorted, not overlapping nor adjacent.
    static func appendIntervals(
        table: String,
        set: String,
        ranges: [(first: SetAddress, last: SetAddress)],
        zero: SetAddress,
        sequence: UInt32,
        to writer: inout NetlinkWriter
    ) {
        let start = writer.beginMessage(type: newElement, flags: requestAck | create, sequence: sequence)
        writer.putNetfilterHeader(family: inet)
        writer.putString(type: attribute(NFTA_SET_ELEM_LIST_TABLE.rawValue), table)
        writer.putString(type: attribute(NFTA_SET_ELEM_LIST_SET.rawValue), set)
        let elements = writer.beginNest(type: attribute(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue))
        var index: UInt16 = 0
        if ranges.first?.first != zero {
            index += 1
            appendListElement(index: index, key: zero, end: true, to: &writer)
        }
        for range in ranges {
            index += 1
            appendListElement(index: index, key: range.first, end: false, to: &writer)
            guard let after = range.last.successor else { continue }
            index += 1
            appendListElement(index: index, key: after, end: true, to: &writer)
        }
        writer.endNest(elements)
        writer.endMessage(start)
    }

    /// Appends an NFT_MSG_GETSETELEM dump of set `set` (attributes in nft's order: set, table).
    static func appendListElements(table: String, set: String, sequence: UInt32, to writer: inout NetlinkWriter) {
        let start = writer.beginMessage(
            type: getElement,
            flags: Netlink.Flags.request | Netlink.Flags.dump,
            sequence: sequence
        )
        writer.putNetfilterHeader(family: inet)
        writer.putString(type: attribute(NFTA_SET_ELEM_LIST_SET.rawValue), set)
        writer.putString(type: attribute(NFTA_SET_ELEM_LIST_TABLE.rawValue), table)
        writer.endMessage(start)
    }

    /// Appends an NFT_MSG_GETSET of set `set`: its flags, size and timeout.
    static func appendGetSet(table: String, set: String, sequence: UInt32, to writer: inout NetlinkWriter) {
        let start = writer.beginMessage(type: getSet, flags: requestAck, sequence: sequence)
        writer.putNetfilterHeader(family: inet)
        writer.putString(type: attribute(NFTA_SET_TABLE.rawValue), table)
        writer.putString(type: attribute(NFTA_SET_NAME.rawValue), set)
        writer.endMessage(start)
    }

    /// Appends an NFT_MSG_GETRULE dump of the rules of inet table `table`.
    static func appendListRules(table: String, sequence: UInt32, to writer: inout NetlinkWriter) {
        let start = writer.beginMessage(
            type: getRule,
            flags: Netlink.Flags.request | Netlink.Flags.dump,
            sequence: sequence
        )
        writer.putNetfilterHeader(family: inet)
        writer.putString(type: attribute(NFTA_RULE_TABLE.rawValue), table)
        writer.endMessage(start)
    }
}
