internal import CNetfilterQueue
import Netlink

#if canImport(Glibc)
    import Glibc
#endif

/// Builds nf_tables set-element requests (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_NFTABLES)
/// and reads their answers, as bytes: no socket, so it is tested from bytes.
///
/// nf_tables takes changes only inside a batch, which the kernel runs as one transaction:
///
///     NFNL_MSG_BATCH_BEGIN  (REQUEST; nfgenmsg AF_UNSPEC, v0, res_id be16 NFNL_SUBSYS_NFTABLES)
///     NFT_MSG_NEWSETELEM or NFT_MSG_DELSETELEM, one per element (below)
///     NFNL_MSG_BATCH_END    (as BEGIN)
///
/// An element request is laid out as nft 1.0.6 writes it (`nft add element inet T S { ADDR
/// timeout 60s }`; checked field by field in NftSetMessageTests):
///
///     nlmsghdr: NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM, REQUEST|CREATE|ACK
///               (nft sends no ACK; without NLM_F_EXCL an existing element is no error and
///               gets the timeout anew)
///     nfgenmsg: NFPROTO_INET, v0, res_id 0
///     NFTA_SET_ELEM_LIST_TABLE  NUL-terminated string
///     NFTA_SET_ELEM_LIST_SET    NUL-terminated string      (nft adds NFTA_SET_ELEM_LIST_SET_ID,
///                                                           needed only for a set of the same batch)
///     NFTA_SET_ELEM_LIST_ELEMENTS (nested)
///       NFTA_LIST_ELEM (nested)
///         NFTA_SET_ELEM_TIMEOUT  be64 milliseconds         (adds only)
///         NFTA_SET_ELEM_KEY (nested)
///           NFTA_DATA_VALUE      the address, 4 or 16 bytes, network order
///
/// The kernel answers each request that has NLM_F_ACK (or failed) with NLMSG_ERROR: 0, or a
/// negative errno (ENFILE when the set holds `size` elements, ENOENT when the table or set is
/// missing). One failure aborts the whole batch: the zero answers of the others then mean
/// nothing was done (see `NftSetClient`).
enum NftSetMessage {
    static func messageType(_ message: Int) -> UInt16 { UInt16(NFNL_SUBSYS_NFTABLES) << 8 | UInt16(message) }

    static let newElement = messageType(Int(NFT_MSG_NEWSETELEM.rawValue))
    static let deleteElement = messageType(Int(NFT_MSG_DELSETELEM.rawValue))
    /// NLM_F_CREATE, as nft sends it for `add element`.
    static let create: UInt16 = 0x400

    /// Appends NFNL_MSG_BATCH_BEGIN (`end` false) or NFNL_MSG_BATCH_END.
    static func appendBatchMarker(end: Bool, sequence: UInt32, to writer: inout NetlinkWriter) {
        // NFNL_MSG_BATCH_BEGIN is NLMSG_MIN_TYPE, END the next one (macros Swift does not import).
        let type = Netlink.MessageType.minimumDataType + (end ? 1 : 0)
        let start = writer.beginMessage(type: type, flags: Netlink.Flags.request, sequence: sequence)
        writer.putNetfilterHeader(family: UInt8(AF_UNSPEC), resourceID: UInt16(NFNL_SUBSYS_NFTABLES))
        writer.endMessage(start)
    }

    /// Appends an NFT_MSG_NEWSETELEM of `address` to set `set` of `inet` table `table` that
    /// lives `timeoutMilliseconds`.
    static func appendAdd(
        table: String,
        set: String,
        address: ConntrackAddress,
        timeoutMilliseconds: UInt64,
        sequence: UInt32,
        to writer: inout NetlinkWriter
    ) {
        appendElement(
            type: newElement,
            flags: create,
            table: table,
            set: set,
            address: address,
            timeoutMilliseconds: timeoutMilliseconds,
            sequence: sequence,
            to: &writer
        )
    }

    /// Appends an NFT_MSG_DELSETELEM of `address` from set `set` of `inet` table `table`.
    static func appendDelete(
        table: String,
        set: String,
        address: ConntrackAddress,
        sequence: UInt32,
        to writer: inout NetlinkWriter
    ) {
        appendElement(
            type: deleteElement,
            flags: 0,
            table: table,
            set: set,
            address: address,
            timeoutMilliseconds: nil,
            sequence: sequence,
            to: &writer
        )
    }

    private static func appendElement(
        type: UInt16,
        flags: UInt16,
        table: String,
        set: String,
        address: ConntrackAddress,
        timeoutMilliseconds: UInt64?,
        sequence: UInt32,
        to writer: inout NetlinkWriter
    ) {
        let start = writer.beginMessage(
            type: type,
            flags: Netlink.Flags.request | Netlink.Flags.acknowledge | flags,
            sequence: sequence
        )
        writer.putNetfilterHeader(family: UInt8(NFPROTO_INET))
        Array(table.utf8 + [0]).withUnsafeBytes {
            writer.putAttribute(type: UInt16(NFTA_SET_ELEM_LIST_TABLE.rawValue), payload: $0)
        }
        Array(set.utf8 + [0]).withUnsafeBytes {
            writer.putAttribute(type: UInt16(NFTA_SET_ELEM_LIST_SET.rawValue), payload: $0)
        }
        let elements = writer.beginNest(type: UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue))
        let element = writer.beginNest(type: UInt16(NFTA_LIST_ELEM.rawValue))
        if let timeoutMilliseconds {
            writer.putAttribute(type: UInt16(NFTA_SET_ELEM_TIMEOUT.rawValue), bigEndian: timeoutMilliseconds)
        }
        let key = writer.beginNest(type: UInt16(NFTA_SET_ELEM_KEY.rawValue))
        switch address {
        case .v4(let value):
            writer.putAttribute(type: UInt16(NFTA_DATA_VALUE.rawValue), bigEndian: value)
        case .v6(let high, let low):
            withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) {
                writer.putAttribute(type: UInt16(NFTA_DATA_VALUE.rawValue), payload: $0)
            }
        }
        writer.endNest(key)
        writer.endNest(element)
        writer.endNest(elements)
        writer.endMessage(start)
    }

    /// Hands every NLMSG_ERROR of one datagram to `onAnswer(sequence, code)` (code 0: done;
    /// else the errno, positive). Returns false when the datagram was malformed.
    static func walkAnswers(_ datagram: UnsafeRawBufferPointer, onAnswer: (UInt32, Int32) -> Void) -> Bool {
        let walk = NetlinkReader.forEachMessage(in: datagram) { message in
            if let code = message.errorCode { onAnswer(message.sequence, code) }
            return .ok
        }
        return walk != .malformed
    }
}
