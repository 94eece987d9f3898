/// Builds kernel-side netlink messages by hand, as nfnetlink_queue lays them out.
enum NetlinkBytes {
    static func host32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
    static func host16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
    static func net32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
    static func net16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    /// One attribute, padded to 4 bytes.
    static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        var bytes = host16(UInt16(4 + value.count)) + host16(type) + value
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    /// nlmsghdr + body, padded to 4 bytes.
    static func message(type: UInt16, sequence: UInt32 = 0, body: [UInt8]) -> [UInt8] {
        var bytes = host32(UInt32(16 + body.count)) + host16(type) + host16(0) + host32(sequence) + host32(0) + body
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    /// An NFQNL_MSG_PACKET for queue 0 with a packet header, a mark, and optionally a payload
    /// and a captured length.
    static func packet(
        id: UInt32,
        hardwareProtocol: UInt16 = 0x0800,
        payload: [UInt8]?,
        capturedLength: UInt32? = nil,
        mark: UInt32 = 0
    ) -> [UInt8] {
        var body: [UInt8] = [0, 0] + net16(0)  // nfgenmsg
        body += attribute(1, net32(id) + net16(hardwareProtocol) + [1])  // NFQA_PACKET_HDR, hook 1
        body += attribute(3, net32(mark))  // NFQA_MARK
        if let payload { body += attribute(10, payload) }  // NFQA_PAYLOAD
        if let capturedLength { body += attribute(13, net32(capturedLength)) }  // NFQA_CAP_LEN
        return message(type: 3 << 8, body: body)
    }

    /// An NLMSG_ERROR carrying `-errno` (0 = acknowledgement).
    static func error(_ errno: Int32, sequence: UInt32) -> [UInt8] {
        message(
            type: 2,
            sequence: sequence,
            body: host32(UInt32(bitPattern: -errno)) + [UInt8](repeating: 0, count: 16)
        )
    }

    /// A minimal IPv4 header from `source` to `destination`.
    static func ipv4(_ source: [UInt8], _ destination: [UInt8]) -> [UInt8] {
        [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0] + source + destination
    }

    /// A minimal IPv6 header; addresses given as 16 bytes.
    static func ipv6(_ source: [UInt8], _ destination: [UInt8]) -> [UInt8] {
        [0x60, 0, 0, 0, 0, 0, 17, 64] + source + destination
    }
}
