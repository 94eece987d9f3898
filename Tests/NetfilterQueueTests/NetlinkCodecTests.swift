import CNetfilterQueue
import Netlink
import Testing

/// The Netlink codec: the writer byte for byte against libmnl, the reader's bounds, mask,
/// alignment and error rules.
@Suite struct NetlinkCodecTests {
    /// libmnl's builders for a message with every kind of attribute, nests included.
    private func libmnlMessage() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 512)
        return buffer.withUnsafeMutableBytes { raw -> [UInt8] in
            let header = mnl_nlmsg_put_header(raw.baseAddress)!
            header.pointee.nlmsg_type = 0x0102
            header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
            header.pointee.nlmsg_seq = 0xA0B0_C0D0
            let nfg = mnl_nlmsg_put_extra_header(header, 4)!.assumingMemoryBound(to: UInt8.self)
            nfg[0] = 10
            nfg[2] = 0x01
            nfg[3] = 0x02
            mnl_attr_put_u8(header, 1, 0xEE)
            let outer = mnl_attr_nest_start(header, 2)
            mnl_attr_put_u16(header, 3, UInt16(0x1234).bigEndian)
            let inner = mnl_attr_nest_start(header, 4)
            mnl_attr_put_u32(header, 5, UInt32(0xDEAD_BEEF).bigEndian)
            mnl_attr_nest_end(header, inner)
            mnl_attr_nest_end(header, outer)
            let odd: [UInt8] = [1, 2, 3, 4, 5]
            odd.withUnsafeBytes { mnl_attr_put(header, 6, 5, $0.baseAddress) }
            mnl_attr_put_u64(header, 7, UInt64(0x0102_0304_0506_0708).bigEndian)
            return Array(raw[0..<Int(header.pointee.nlmsg_len)])
        }
    }

    private func ourMessage(into writer: inout NetlinkWriter) {
        let start = writer.beginMessage(
            type: 0x0102,
            flags: Netlink.Flags.request | Netlink.Flags.acknowledge,
            sequence: 0xA0B0_C0D0
        )
        writer.putNetfilterHeader(family: 10, resourceID: 0x0102)
        writer.putAttribute(type: 1, u8: 0xEE)
        let outer = writer.beginNest(type: 2)
        writer.putAttribute(type: 3, bigEndian: UInt16(0x1234))
        let inner = writer.beginNest(type: 4)
        writer.putAttribute(type: 5, bigEndian: UInt32(0xDEAD_BEEF))
        writer.endNest(inner)
        writer.endNest(outer)
        [UInt8]([1, 2, 3, 4, 5]).withUnsafeBytes { writer.putAttribute(type: 6, payload: $0) }
        writer.putAttribute(type: 7, bigEndian: UInt64(0x0102_0304_0506_0708))
        writer.endMessage(start)
    }

    @Test func writerMatchesLibmnl() {
        var writer = NetlinkWriter()
        ourMessage(into: &writer)
        #expect(writer.bytes == libmnlMessage())
    }

    /// Messages in a row form a batch; `removeAll` starts over in the same storage.
    @Test func batchesAndReuse() {
        var writer = NetlinkWriter()
        ourMessage(into: &writer)
        ourMessage(into: &writer)
        #expect(writer.bytes == libmnlMessage() + libmnlMessage())
        writer.removeAll()
        #expect(writer.bytes.isEmpty)
        ourMessage(into: &writer)
        #expect(writer.bytes == libmnlMessage())
    }

    /// The reader gives back what the writer wrote: types without the nest bit, payloads
    /// without padding, nests readable in turn.
    @Test func readerReadsWhatTheWriterWrote() {
        let bytes = libmnlMessage() + libmnlMessage()
        var seen: [String] = []
        let walk = bytes.withUnsafeBytes { raw in
            NetlinkReader.forEachMessage(in: raw) { message in
                #expect(message.type == 0x0102 && message.sequence == 0xA0B0_C0D0 && message.errorCode == nil)
                #expect(message.netfilterFamily == 10)
                let attributes = NetlinkReader.forEachAttribute(in: message.netfilterAttributes!) { attribute in
                    switch attribute.type {
                    case 1: seen.append("u8 \(attribute.u8!)")
                    case 2:
                        #expect(attribute.isNested)
                        _ = NetlinkReader.forEachAttribute(in: attribute.payload) { nested in
                            if nested.type == 3 { seen.append("u16 \(nested.bigEndianU16!)") }
                            if nested.type == 4 {
                                _ = NetlinkReader.forEachAttribute(in: nested.payload) {
                                    seen.append("u32 \($0.bigEndianU32!)")
                                    return .ok
                                }
                            }
                            return .ok
                        }
                    case 6: seen.append("bytes \(Array(attribute.payload))")
                    case 7: seen.append("u64 \(attribute.bigEndianU64()!)")
                    default: seen.append("unexpected \(attribute.type)")
                    }
                    return .ok
                }
                #expect(attributes == .complete)
                return .ok
            }
        }
        #expect(walk == .complete)
        let one = ["u8 238", "u16 4660", "u32 3735928559", "bytes [1, 2, 3, 4, 5]", "u64 72623859790382856"]
        #expect(seen == one + one)
    }

    private func walk(_ bytes: [UInt8], _ answer: NetlinkCallbackResult = .ok) -> (NetlinkWalkResult, Int) {
        var count = 0
        let result = bytes.withUnsafeBytes { raw in
            NetlinkReader.forEachMessage(in: raw) { _ in
                count += 1
                return answer
            }
        }
        return (result, count)
    }

    @Test func messagesThatDoNotFitAreMalformed() {
        let good = NetlinkBytes.message(type: 0x10, body: [1, 2, 3, 4])
        #expect(walk(good) == (.complete, 1))
        #expect(walk(good + [0, 0, 0]) == (.malformed, 1))  // fewer bytes than a header left
        var short = good
        short[0] = 15  // below the header size
        #expect(walk(short) == (.malformed, 0))
        var long = good
        long[0] = 21  // beyond the buffer
        #expect(walk(long) == (.malformed, 0))
        // The last message may lack its padding.
        let unpadded =
            NetlinkBytes.message(type: 0x10, body: [1, 2, 3, 4])
            + Array(NetlinkBytes.message(type: 0x10, body: [9])[0..<17])
        #expect(walk(unpadded) == (.complete, 2))
        #expect(walk([]) == (.complete, 0))
    }

    @Test func callbacksStopOrFail() {
        let two = NetlinkBytes.message(type: 0x10, body: []) + NetlinkBytes.message(type: 0x10, body: [])
        #expect(walk(two, .stop) == (.stopped, 1))
        #expect(walk(two, .error) == (.failed, 1))
    }

    @Test func attributeRules() {
        // Type bits: NLA_F_NESTED and NLA_F_NET_BYTEORDER are masked off.
        let bytes = NetlinkBytes.attribute(0xC005, [1]) + NetlinkBytes.attribute(0x4006, [1, 2])
        var types: [UInt16] = []
        var nested: [Bool] = []
        let result = bytes.withUnsafeBytes { raw in
            NetlinkReader.forEachAttribute(in: raw) {
                types.append($0.type)
                nested.append($0.isNested)
                #expect($0.payload.count == ($0.type == 5 ? 1 : 2))
                return .ok
            }
        }
        #expect(result == .complete && types == [5, 6] && nested == [true, false])
        for damaged in [bytes + [0, 0], [3, 0, 1, 0], [9, 0, 1, 0, 0, 0, 0, 0]] {
            #expect(
                damaged.withUnsafeBytes { raw in NetlinkReader.forEachAttribute(in: raw) { _ in .ok } } == .malformed
            )
        }
        // Short payloads read as nil, never past the end.
        [UInt8]([5, 0, 1, 0, 0xAB]).withUnsafeBytes { raw in
            _ = NetlinkReader.forEachAttribute(in: raw) { attribute in
                #expect(attribute.u8 == 0xAB && attribute.bigEndianU16 == nil && attribute.bigEndianU32 == nil)
                #expect(attribute.bigEndianU64() == nil)
                return .ok
            }
        }
    }

    /// NLMSG_ERROR as mnl_cb_error reads it.
    @Test func errorCodes() {
        func code(_ raw: UInt32, bodyLength: Int = 20) -> Int32? {
            let body = NetlinkBytes.host32(raw) + [UInt8](repeating: 0, count: bodyLength - 4)
            var found: Int32?
            _ = NetlinkBytes.message(type: 2, body: body).withUnsafeBytes { raw in
                NetlinkReader.forEachMessage(in: raw) {
                    found = $0.errorCode
                    return .ok
                }
            }
            return found
        }
        #expect(code(0) == 0)
        #expect(code(UInt32(bitPattern: -2)) == 2)
        #expect(code(5) == 5)
        #expect(code(0x8000_0000) == Int32.max)
        #expect(code(0, bodyLength: 8) == Netlink.badMessage)
        #expect(Netlink.badMessage == EBADMSG)
    }

    /// The codec's constants are the kernel headers' numbers.
    @Test func constantsMatchTheHeaders() {
        #expect(Netlink.MessageType.error == UInt16(NLMSG_ERROR))
        #expect(Netlink.MessageType.done == UInt16(NLMSG_DONE))
        #expect(Netlink.MessageType.noop == UInt16(NLMSG_NOOP))
        #expect(Netlink.MessageType.overrun == UInt16(NLMSG_OVERRUN))
        #expect(Netlink.Flags.request == UInt16(NLM_F_REQUEST))
        #expect(Netlink.Flags.acknowledge == UInt16(NLM_F_ACK))
        #expect(Netlink.Flags.dump == UInt16(NLM_F_DUMP))
        #expect(Netlink.Flags.dumpInterrupted == UInt16(NLM_F_DUMP_INTR))
        #expect(Netlink.AttributeFlags.nested == UInt16(NLA_F_NESTED))
        #expect(Netlink.AttributeFlags.networkByteOrder == UInt16(NLA_F_NET_BYTEORDER))
        #expect(Netlink.errorPayloadSize == MemoryLayout<nlmsgerr>.size)
        #expect(Netlink.messageHeaderSize == MemoryLayout<nlmsghdr>.size)
    }
}
