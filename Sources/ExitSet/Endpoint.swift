/// Reads the address of an `address:port` endpoint: `"192.0.2.1:443"` or
/// `"[2001:db8::1]:443"` (consensus `a` lines, Onionoo `or_addresses`). The port must be a
/// decimal number 0...65535 of at most five digits. An IPv4-mapped IPv6 address becomes IPv4.
enum Endpoint {
    static func address(_ bytes: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        parse(bytes)?.address
    }

    /// A decimal port of 1 to 5 digits, at most 65535; nil otherwise.
    static func port(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt16? {
        guard bytes.count >= 1 && bytes.count <= 5 else { return nil }
        var value = 0
        for byte in bytes {
            guard let digit = ASCII.decimalValue(byte) else { return nil }
            value = value * 10 + Int(digit)
        }
        return value <= 65535 ? UInt16(value) : nil
    }

    /// The address and the port of an endpoint.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> (address: IPAddress, port: UInt16)? {
        guard let first = bytes.first else { return nil }
        let portColon: Int
        let address: IPAddress
        if first == ASCII.leftBracket {
            guard let close = bytes.firstIndex(of: ASCII.rightBracket),
                let v6 = IPv6Address.parse(UnsafeBufferPointer(rebasing: bytes[1..<close]))
            else { return nil }
            address = IPAddress.v6(v6).normalized
            portColon = close + 1
        } else {
            guard let colon = bytes.lastIndex(of: ASCII.colon),
                let v4 = IPv4Address.parse(UnsafeBufferPointer(rebasing: bytes[0..<colon]))
            else { return nil }
            address = .v4(v4)
            portColon = colon
        }
        guard portColon < bytes.count && bytes[portColon] == ASCII.colon else { return nil }
        guard let port = port(UnsafeBufferPointer(rebasing: bytes[(portColon + 1)...])) else { return nil }
        return (address, port)
    }
}
