import Netlink

extension NetlinkWriter {
    /// An attribute holding `address` in network byte order (4 or 16 bytes).
    mutating func putAddress(type: UInt16, _ address: SetAddress) {
        switch address {
        case .v4(let value):
            putAttribute(type: type, bigEndian: value)
        case .v6(let high, let low):
            withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { putAttribute(type: type, payload: $0) }
        }
    }

    /// A NUL-terminated string attribute (mnl_attr_put_strz).
    mutating func putString(type: UInt16, _ text: String) {
        Array(text.utf8 + [0]).withUnsafeBytes { putAttribute(type: type, payload: $0) }
    }
}

extension NetlinkAttribute {
    /// A NUL-terminated string payload (the NUL and anything after it left out).
    var string: String {
        let bytes = payload.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}
