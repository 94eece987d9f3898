import ExitSet
import Testing

@Suite("Plain lists")
struct PlainListTests {
    @Test func readsAddressesPrefixesAndComments() throws {
        let text = """
            # FireHOL style header
            ;  another comment style

            192.0.2.1
              198.51.100.0/24   # trailing comment
            2001:db8::1 ; trailing semicolon comment
            [2001:db8::2]
            2001:0db8:0000:0000:0000:0000:0000:0003\r
            10.0.0.1/8
            \t203.0.113.7\t
            """
        let list = try parse(text)
        #expect(list.format == .plain)
        #expect(list.rejected.isEmpty)
        #expect(
            list.entries.map(\.description) == [
                "192.0.2.1", "198.51.100.0/24", "2001:db8::1", "2001:db8::2", "2001:db8::3", "10.0.0.0/8",
                "203.0.113.7",
            ]
        )
        #expect(list.ipv4Count == 4)
        #expect(list.ipv6Count == 3)
    }

    @Test func collectsBadLinesWithTheirNumbers() throws {
        let text = "192.0.2.1\nfoo\n192.0.2.2\n\n1.2.3.4.5 # five\n192.0.2.3\n"
        let list = try parse(text)
        #expect(list.entries.count == 3)
        #expect(list.rejected.count == 2)
        #expect(list.rejectedCount == 2)
        #expect(list.rejected.map(\.line) == [2, 5])
        #expect(list.rejected[0].reason == "not an IP address or prefix: 'foo'")
        #expect(list.rejected[1].reason == "not an IP address or prefix: '1.2.3.4.5'")
        #expect(list.rejected[0].description == "line 2: not an IP address or prefix: 'foo'")
    }

    @Test func countsLinesWithCRLF() throws {
        let list = try parse("1.1.1.1\r\nbad\r\n\r\n2.2.2.2\r\nworse\r\n")
        #expect(list.entries.count == 2)
        #expect(list.rejected.map(\.line) == [2, 5])
        #expect(list.rejected[0].reason == "not an IP address or prefix: 'bad'")
    }

    @Test func keepsDuplicatesButCountsDistinct() throws {
        let list = try parse("1.1.1.1\n1.1.1.1\n::ffff:1.1.1.1\n2001:db8::1\n2001:DB8:0:0:0:0:0:1\n")
        #expect(list.entries.count == 5)
        #expect(list.ipv4Count == 1)
        #expect(list.ipv6Count == 1)
    }

    @Test func excerptsAreShortAndPrintable() throws {
        let long = String(repeating: "x", count: 200)
        var bytes = Array(text: "1.1.1.1\n\(long)\nab\u{7}c\u{1B}[31m\\\n")
        bytes += [0xFF, 0xFE, 0x0A]
        let list = try ListParser.parse(bytes)
        #expect(list.rejected.count == 3)
        let longReason = list.rejected[0].reason
        let longExcerpt = longReason.drop { $0 != "'" }.dropFirst().dropLast()
        #expect(longExcerpt.count <= 60)
        #expect(longExcerpt.hasSuffix("..."))
        #expect(list.rejected[1].reason == #"not an IP address or prefix: 'ab\x07c\x1b[31m\x5c'"#)
        #expect(list.rejected[2].reason == #"not an IP address or prefix: '\xff\xfe'"#)
        #expect(list.rejected[2].line == 4)
    }

    @Test func skipsAByteOrderMark() throws {
        let list = try ListParser.parse([0xEF, 0xBB, 0xBF] + Array(text: "192.0.2.1\n"))
        #expect(list.entries == [prefix("192.0.2.1")])
    }

    @Test func keepsAtMostTheRejectedLimit() throws {
        let text = String(repeating: "nope\n", count: ParsedList.rejectedLimit + 5) + "1.2.3.4\n"
        let list = try parse(text)
        #expect(list.entries.count == 1)
        #expect(list.rejected.count == ParsedList.rejectedLimit)
        #expect(list.rejectedCount == ParsedList.rejectedLimit + 5)
    }

    @Test func parsesAMillionLines() throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16_000_000)
        for index in 0..<1_000_000 {
            bytes += Array(text: "\(10 + index % 200).\(index / 65536 % 256).\(index / 256 % 256).\(index % 256)\n")
        }
        let clock = ContinuousClock()
        var list: ParsedList?
        let elapsed = try clock.measure { list = try ListParser.parse(bytes) }
        #expect(list?.entries.count == 1_000_000)
        #expect(list?.rejected.isEmpty == true)
        // Well under a second in release; the debug build used by `swift test` is slower.
        #expect(elapsed < .seconds(30))
    }
}
