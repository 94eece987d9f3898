import Netlink
import Testing

@testable import NetfilterQueue

/// The nf_tables set-element batches against the bytes nft 1.0.6 sends. Captured in a
/// scratch namespace (`unshare -n`, table `inet t`, sets `s` and `s6` with `flags dynamic,
/// timeout; timeout 60s; counter`) with
///
///     strace -f -e trace=sendmsg -e write=3 nft add element inet t s '{ 1.2.3.4 timeout 60s }'
///
/// (and `… s6 '{ 2001:db8::1 timeout 60s }'`, `nft delete element inet t s '{ 1.2.3.4 }'`),
/// the hex dump of the sent batch pasted below. Compared field by field, sequence numbers and
/// port ids aside, with two intended differences: exitblock sets NLM_F_ACK on each element
/// (it reads an answer per element), and leaves out NFTA_SET_ELEM_LIST_SET_ID (nft numbers
/// the sets of its own batch; the kernel finds an existing set by name).
@Suite struct NftSetMessageTests {
    static let capturedAdd4: [UInt8] = [
        0x14, 0x00, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x0a, 0x4c, 0x00, 0x00, 0x00, 0x0c, 0x0a, 0x01, 0x04, 0x01, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x01, 0x00, 0x74, 0x00, 0x00, 0x00,
        0x06, 0x00, 0x02, 0x00, 0x73, 0x00, 0x00, 0x00, 0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x20, 0x00, 0x03, 0x80, 0x1c, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0xea, 0x60, 0x0c, 0x00, 0x01, 0x80, 0x08, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04,
        0x14, 0x00, 0x00, 0x00, 0x11, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x0a,
    ]

    static let capturedAdd6: [UInt8] = [
        0x14, 0x00, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x0a, 0x58, 0x00, 0x00, 0x00, 0x0c, 0x0a, 0x01, 0x04, 0x01, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x01, 0x00, 0x74, 0x00, 0x00, 0x00,
        0x07, 0x00, 0x02, 0x00, 0x73, 0x36, 0x00, 0x00, 0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02,
        0x2c, 0x00, 0x03, 0x80, 0x28, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0xea, 0x60, 0x18, 0x00, 0x01, 0x80, 0x14, 0x00, 0x01, 0x00, 0x20, 0x01, 0x0d, 0xb8,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x14, 0x00, 0x00, 0x00,
        0x11, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,
    ]

    static let capturedDelete4: [UInt8] = [
        0x14, 0x00, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x0a, 0x38, 0x00, 0x00, 0x00, 0x0e, 0x0a, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x01, 0x00, 0x74, 0x00, 0x00, 0x00,
        0x06, 0x00, 0x02, 0x00, 0x73, 0x00, 0x00, 0x00, 0x14, 0x00, 0x03, 0x80, 0x10, 0x00, 0x01, 0x80,
        0x0c, 0x00, 0x01, 0x80, 0x08, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00,
        0x11, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,
    ]

    /// One message as compared: everything but the sequence number and port id.
    struct Fields: Equatable, CustomStringConvertible {
        var type: UInt16
        var flags: UInt16
        var netfilterHeader: [UInt8]
        /// Top-level attributes: (type, nested, payload bytes as sent, nests included).
        var attributes: [Attribute]

        struct Attribute: Equatable {
            var type: UInt16
            var nested: Bool
            var payload: [UInt8]
        }

        var description: String { "type \(type) flags \(flags) nfgen \(netfilterHeader) attributes \(attributes)" }
    }

    /// Decodes a batch with the project's codec; nil when it does not read.
    static func fields(_ bytes: [UInt8]) -> [Fields]? {
        var messages: [Fields] = []
        var ok = true
        let walk = bytes.withUnsafeBytes { buffer in
            NetlinkReader.forEachMessage(in: buffer) { message in
                guard let attributes = message.netfilterAttributes else {
                    ok = false
                    return .error
                }
                var fields = Fields(
                    type: message.type,
                    flags: message.flags,
                    netfilterHeader: Array(message.payload.prefix(Netlink.netfilterHeaderSize)),
                    attributes: []
                )
                let inner = NetlinkReader.forEachAttribute(in: attributes) { attribute in
                    fields.attributes.append(
                        .init(type: attribute.type, nested: attribute.isNested, payload: Array(attribute.payload))
                    )
                    return .ok
                }
                if inner != .complete { ok = false }
                messages.append(fields)
                return .ok
            }
        }
        return walk == .complete && ok ? messages : nil
    }

    /// What exitblock must send for nft's `captured`: NLM_F_ACK added to the element messages,
    /// NFTA_SET_ELEM_LIST_SET_ID (4) left out.
    static func expected(fromCaptured captured: [UInt8]) -> [Fields]? {
        fields(captured).map { messages in
            messages.enumerated().map { (index, message) -> Fields in
                var message = message
                guard index != 0 && index != messages.count - 1 else { return message }
                message.flags |= Netlink.Flags.acknowledge
                message.attributes.removeAll { $0.type == 4 && !$0.nested }
                return message
            }
        }
    }

    static func batch(_ element: (inout NetlinkWriter) -> Void) -> [UInt8] {
        var writer = NetlinkWriter()
        NftSetMessage.appendBatchMarker(end: false, sequence: 70, to: &writer)
        element(&writer)
        NftSetMessage.appendBatchMarker(end: true, sequence: 72, to: &writer)
        return writer.bytes
    }

    @Test func anIPv4AddIsWhatNftSends() throws {
        let bytes = Self.batch {
            NftSetMessage.appendAdd(
                table: "t",
                set: "s",
                address: .v4(0x0102_0304),
                timeoutMilliseconds: 60_000,
                sequence: 71,
                to: &$0
            )
        }
        let expected = try #require(Self.expected(fromCaptured: Self.capturedAdd4))
        #expect(Self.fields(bytes) == expected)
        // 8 bytes fewer than nft's (no SET_ID), and each message's length is right.
        #expect(bytes.count == Self.capturedAdd4.count - 8)
    }

    @Test func anIPv6AddIsWhatNftSends() throws {
        let bytes = Self.batch {
            NftSetMessage.appendAdd(
                table: "t",
                set: "s6",
                address: .v6(high: 0x2001_0db8_0000_0000, low: 1),
                timeoutMilliseconds: 60_000,
                sequence: 71,
                to: &$0
            )
        }
        let expected = try #require(Self.expected(fromCaptured: Self.capturedAdd6))
        #expect(Self.fields(bytes) == expected)
        #expect(bytes.count == Self.capturedAdd6.count - 8)
    }

    @Test func aDeleteIsWhatNftSends() throws {
        let bytes = Self.batch {
            NftSetMessage.appendDelete(table: "t", set: "s", address: .v4(0x0102_0304), sequence: 71, to: &$0)
        }
        let expected = try #require(Self.expected(fromCaptured: Self.capturedDelete4))
        #expect(Self.fields(bytes) == expected)
    }

    @Test func sequenceNumbersAreTheOnesGiven() {
        let bytes = Self.batch {
            NftSetMessage.appendAdd(
                table: "exitblock",
                set: "drop4",
                address: .v4(1),
                timeoutMilliseconds: 1000,
                sequence: 71,
                to: &$0
            )
        }
        var sequences: [UInt32] = []
        _ = bytes.withUnsafeBytes {
            NetlinkReader.forEachMessage(in: $0) {
                sequences.append($0.sequence)
                return .ok
            }
        }
        #expect(sequences == [70, 71, 72])
    }

    @Test func anAbortedBatchIsSentAgainWithoutTheRefusedElements() throws {
        // Elements 1 and 3 are refused (a full set); the kernel answers the others 0 but
        // aborted them: they go again, alone, and then pass.
        var rounds: [[Int]] = []
        let codes = try NftSetClient.settle(count: 5) { (indices: [Int]) throws(NftSetError) -> [Int32] in
            rounds.append(indices)
            return indices.map { $0 == 1 || $0 == 3 ? 23 : 0 }
        }
        #expect(rounds == [[0, 1, 2, 3, 4], [0, 2, 4]])
        #expect(codes == [0, 23, 0, 23, 0])
    }

    @Test func aBatchThatPassesIsSentOnce() throws {
        var rounds = 0
        let codes = try NftSetClient.settle(count: 3) { (indices: [Int]) throws(NftSetError) -> [Int32] in
            rounds += 1
            return indices.map { _ in 0 }
        }
        #expect(rounds == 1 && codes == [0, 0, 0])
    }

    @Test func answersAreReadBySequence() {
        let datagram = NetlinkBytes.error(0, sequence: 5) + NetlinkBytes.error(23, sequence: 6)
        var seen: [UInt32: Int32] = [:]
        let ok = datagram.withUnsafeBytes { NftSetMessage.walkAnswers($0) { seen[$0] = $1 } }
        #expect(ok)
        #expect(seen == [5: 0, 6: 23])
    }
}
