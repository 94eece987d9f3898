/// A netlink message as the tests compare it: header type and flags, the netfilter header, and
/// the attribute tree with each attribute's raw type (NLA_F_NESTED and NLA_F_NET_BYTEORDER
/// kept) and unpadded payload. Sequence numbers, port ids and padding bytes (nft leaves stale
/// bytes there) are left out.
struct CapturedMessage: Equatable, CustomStringConvertible {
    indirect enum Node: Equatable {
        case leaf(type: UInt16, payload: [UInt8])
        case nest(type: UInt16, children: [Node])
    }

    var type: UInt16
    var flags: UInt16
    var netfilterHeader: [UInt8]
    var attributes: [Node]

    var description: String { "type \(type) flags \(flags) nfgen \(netfilterHeader) \(attributes)" }

    /// The messages of `bytes`.
    static func parse(_ bytes: [UInt8]) -> [CapturedMessage] {
        var messages: [CapturedMessage] = []
        var offset = 0
        while offset + 20 <= bytes.count {
            let length = Int(u32(bytes, offset))
            let body = Array(bytes[(offset + 20)..<(offset + length)])
            messages.append(
                CapturedMessage(
                    type: u16(bytes, offset + 4),
                    flags: u16(bytes, offset + 6),
                    netfilterHeader: Array(bytes[(offset + 16)..<(offset + 20)]),
                    attributes: nodes(body)
                )
            )
            offset += (length + 3) & ~3
        }
        return messages
    }

    /// The messages of a hex string (as the captures are written).
    static func parse(hex: String) -> [CapturedMessage] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return parse(bytes)
    }

    static func nodes(_ bytes: [UInt8]) -> [Node] {
        var nodes: [Node] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            let length = Int(u16(bytes, offset))
            let type = u16(bytes, offset + 2)
            let payload = Array(bytes[(offset + 4)..<(offset + length)])
            nodes.append(
                type & 0x8000 != 0
                    ? .nest(type: type, children: Self.nodes(payload)) : .leaf(type: type, payload: payload)
            )
            offset += (length + 3) & ~3
        }
        return nodes
    }

    static func u16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }
    static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(u16(bytes, offset)) | UInt32(u16(bytes, offset + 2)) << 16
    }
}
