internal import CNetfilterQueue
import Netlink

/// What NFT_MSG_GETSET says of an nf_tables set: its flags, size and default timeout.
public struct NftSetInfo: Sendable, Equatable {
    /// NFT_SET_* flags (NFT_SET_INTERVAL 0x4, NFT_SET_TIMEOUT 0x10, NFT_SET_EVAL 0x20 ...).
    public var flags: UInt32 = 0
    /// The set's size (nil: unbounded).
    public var size: UInt32?
    /// The default timeout in seconds (nil: none).
    public var timeout: UInt32?

    public init(flags: UInt32 = 0, size: UInt32? = nil, timeout: UInt32? = nil) {
        self.flags = flags
        self.size = size
        self.timeout = timeout
    }

    /// Reads an NFT_MSG_NEWSET message (the answer to GETSET).
    init?(_ message: NetlinkMessage) {
        guard let attributes = message.netfilterAttributes else { return nil }
        var info = NftSetInfo()
        let walk = NetlinkReader.forEachAttribute(in: attributes) { attribute in
            switch attribute.type {
            case UInt16(NFTA_SET_FLAGS.rawValue):
                info.flags = attribute.bigEndianU32 ?? 0
            case UInt16(NFTA_SET_TIMEOUT.rawValue):
                info.timeout = attribute.bigEndianU64().map { UInt32(clamping: $0 / 1000) }
            case UInt16(NFTA_SET_DESC.rawValue):
                _ = NetlinkReader.forEachAttribute(in: attribute.payload) { inner in
                    if inner.type == UInt16(NFTA_SET_DESC_SIZE.rawValue) { info.size = inner.bigEndianU32 }
                    return .ok
                }
            default:
                break
            }
            return .ok
        }
        guard walk == .complete else { return nil }
        self = info
    }
}
