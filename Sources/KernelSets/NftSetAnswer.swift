internal import CNetfilterQueue
import Netlink

/// Reads the answers of the nf_tables dumps: the elements of a set (GETSETELEM) and the
/// sets a table's rules name (GETRULE).
enum NftSetAnswer {
    /// The elements of one NFT_MSG_NEWSETELEM message, with their expiry and counter where
    /// present; interval ends are left out. Nil when the message could not be read.
    static func members(_ message: NetlinkMessage) -> [SetMember]? {
        guard let attributes = message.netfilterAttributes else { return nil }
        var members: [SetMember] = []
        var readable = true
        let walk = NetlinkReader.forEachAttribute(in: attributes) { attribute in
            guard attribute.type == UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) else { return .ok }
            let inner = NetlinkReader.forEachAttribute(in: attribute.payload) { element in
                switch member(element.payload) {
                case .some(.some(let member)): members.append(member)
                case .some(.none): break
                case .none: readable = false
                }
                return .ok
            }
            return inner == .complete ? .ok : .error
        }
        return walk == .complete && readable ? members : nil
    }

    /// One element: the member, nil (inner) for an interval end, nil (outer) when unreadable.
    static func member(_ payload: UnsafeRawBufferPointer) -> SetMember?? {
        var member: SetMember?
        var flags: UInt32 = 0
        var expiration: UInt64 = 0
        var counter: (packets: UInt64, bytes: UInt64) = (0, 0)
        let walk = NetlinkReader.forEachAttribute(in: payload) { value in
            switch value.type {
            case UInt16(NFTA_SET_ELEM_KEY.rawValue):
                _ = NetlinkReader.forEachAttribute(in: value.payload) { key in
                    member = SetAddress(networkBytes: key.payload).map { SetMember(address: $0) }
                    return .stop
                }
            case UInt16(NFTA_SET_ELEM_FLAGS.rawValue): flags = value.bigEndianU32 ?? 0
            case UInt16(NFTA_SET_ELEM_EXPIRATION.rawValue): expiration = value.bigEndianU64() ?? 0
            case UInt16(NFTA_SET_ELEM_EXPR.rawValue): readCounter(value.payload, into: &counter)
            case UInt16(NFTA_SET_ELEM_EXPRESSIONS.rawValue):
                _ = NetlinkReader.forEachAttribute(in: value.payload) { expression in
                    readCounter(expression.payload, into: &counter)
                    return .ok
                }
            default: break
            }
            return .ok
        }
        guard walk == .complete else { return nil }
        if flags & UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue) != 0 { return .some(nil) }
        guard var member else { return nil }
        member.timeout = (expiration + 999) / 1000
        member.packets = counter.packets
        member.bytes = counter.bytes
        return member
    }

    /// A "counter" expression's packets and bytes (other expressions are skipped).
    static func readCounter(_ payload: UnsafeRawBufferPointer, into counter: inout (packets: UInt64, bytes: UInt64)) {
        var name = ""
        var data: UnsafeRawBufferPointer?
        _ = NetlinkReader.forEachAttribute(in: payload) { value in
            if value.type == UInt16(NFTA_EXPR_NAME.rawValue) { name = value.string }
            if value.type == UInt16(NFTA_EXPR_DATA.rawValue) { data = value.payload }
            return .ok
        }
        guard name == "counter", let data else { return }
        _ = NetlinkReader.forEachAttribute(in: data) { value in
            if value.type == UInt16(NFTA_COUNTER_PACKETS.rawValue) { counter.packets = value.bigEndianU64() ?? 0 }
            if value.type == UInt16(NFTA_COUNTER_BYTES.rawValue) { counter.bytes = value.bigEndianU64() ?? 0 }
            return .ok
        }
    }

    /// The sets the expressions of one NFT_MSG_NEWRULE message name: `lookup` (`ip saddr
    /// @drop4`) and `dynset` (`add @s { … }`).
    static func setNames(_ message: NetlinkMessage) -> [String] {
        guard let attributes = message.netfilterAttributes else { return [] }
        var names: [String] = []
        _ = NetlinkReader.forEachAttribute(in: attributes) { attribute in
            guard attribute.type == UInt16(NFTA_RULE_EXPRESSIONS.rawValue) else { return .ok }
            _ = NetlinkReader.forEachAttribute(in: attribute.payload) { expression in
                if let name = setName(expression.payload) { names.append(name) }
                return .ok
            }
            return .ok
        }
        return names
    }

    /// The set a lookup or dynset expression names.
    static func setName(_ expression: UnsafeRawBufferPointer) -> String? {
        var kind = ""
        var data: UnsafeRawBufferPointer?
        _ = NetlinkReader.forEachAttribute(in: expression) { value in
            if value.type == UInt16(NFTA_EXPR_NAME.rawValue) { kind = value.string }
            if value.type == UInt16(NFTA_EXPR_DATA.rawValue) { data = value.payload }
            return .ok
        }
        let wanted: UInt16
        switch kind {
        case "lookup": wanted = UInt16(NFTA_LOOKUP_SET.rawValue)
        case "dynset": wanted = UInt16(NFTA_DYNSET_SET_NAME.rawValue)
        default: return nil
        }
        guard let data else { return nil }
        var name: String?
        _ = NetlinkReader.forEachAttribute(in: data) { value in
            if value.type == wanted { name = value.string }
            return .ok
        }
        return name
    }
}
