internal import CNetfilterQueue
import Netlink

/// An ipset as an IPSET_CMD_LIST dump told it: the header (in the first message) and the
/// entries (in every message's IPSET_ATTR_ADT nest, a datagram's worth at a time).
public struct IpsetListing: Sendable, Equatable {
    public var header = IpsetHeader()
    public var members: [SetMember] = []
    /// Entries or attributes that could not be read.
    public var malformed = 0

    public init() {}

    /// Reads one message of the dump.
    mutating func read(_ message: NetlinkMessage) {
        guard let attributes = message.netfilterAttributes else {
            malformed += 1
            return
        }
        let walk = NetlinkReader.forEachAttribute(in: attributes) { attribute in
            switch attribute.type {
            case UInt16(IPSET_ATTR_TYPENAME): header.typeName = attribute.string
            case UInt16(IPSET_ATTR_REVISION): header.revision = attribute.u8 ?? 0
            case UInt16(IPSET_ATTR_FAMILY): header.family = attribute.u8 ?? 0
            case UInt16(IPSET_ATTR_DATA): readHeaderData(attribute.payload)
            case UInt16(IPSET_ATTR_ADT): readEntries(attribute.payload)
            default: break
            }
            return .ok
        }
        if walk != .complete { malformed += 1 }
    }

    /// The create-time data of the header: timeout, sizes, flags, references, entries.
    private mutating func readHeaderData(_ payload: UnsafeRawBufferPointer) {
        let walk = NetlinkReader.forEachAttribute(in: payload) { value in
            switch value.type {
            case UInt16(IPSET_ATTR_TIMEOUT): header.timeout = value.bigEndianU32
            case UInt16(IPSET_ATTR_MAXELEM): header.maxelem = value.bigEndianU32
            case UInt16(IPSET_ATTR_HASHSIZE): header.hashsize = value.bigEndianU32
            case UInt16(IPSET_ATTR_REFERENCES): header.references = value.bigEndianU32
            case UInt16(IPSET_ATTR_ELEMENTS): header.entries = value.bigEndianU32
            case UInt16(IPSET_ATTR_MEMSIZE): header.memorySize = value.bigEndianU32
            case UInt16(IPSET_ATTR_CADT_FLAGS):
                header.counters = (value.bigEndianU32 ?? 0) & UInt32(IPSET_FLAG_WITH_COUNTERS.rawValue) != 0
            default: break
            }
            return .ok
        }
        if walk != .complete { malformed += 1 }
    }

    /// IPSET_ATTR_ADT: one IPSET_ATTR_DATA nest per entry.
    private mutating func readEntries(_ payload: UnsafeRawBufferPointer) {
        let walk = NetlinkReader.forEachAttribute(in: payload) { entry in
            if entry.type == UInt16(IPSET_ATTR_DATA), let member = Self.member(entry.payload) {
                members.append(member)
            } else {
                malformed += 1
            }
            return .ok
        }
        if walk != .complete { malformed += 1 }
    }

    /// One entry: IP{IPADDR_IPV4 or _IPV6}, TIMEOUT, PACKETS, BYTES.
    static func member(_ payload: UnsafeRawBufferPointer) -> SetMember? {
        var member: SetMember?
        var timeout: UInt64 = 0
        var packets: UInt64 = 0
        var bytes: UInt64 = 0
        let walk = NetlinkReader.forEachAttribute(in: payload) { value in
            switch value.type {
            case UInt16(IPSET_ATTR_IP):
                _ = NetlinkReader.forEachAttribute(in: value.payload) { inner in
                    member = SetAddress(networkBytes: inner.payload).map { SetMember(address: $0) }
                    return .stop
                }
            case UInt16(IPSET_ATTR_TIMEOUT): timeout = UInt64(value.bigEndianU32 ?? 0)
            case UInt16(IPSET_ATTR_PACKETS): packets = value.bigEndianU64() ?? 0
            case UInt16(IPSET_ATTR_BYTES): bytes = value.bigEndianU64() ?? 0
            default: break
            }
            return .ok
        }
        guard walk == .complete, var member else { return nil }
        member.timeout = timeout
        member.packets = packets
        member.bytes = bytes
        return member
    }
}
