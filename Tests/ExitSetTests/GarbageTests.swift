import ExitSet
import Testing
import SeededRandom

@Suite("Refused lists")
struct GarbageTests {
    @Test func emptyInput() {
        #expect(parseError([]) == .empty)
        #expect(parseError("\n\n   \n\t\n") == .empty)
        for format in ListFormat.allCases {
            #expect(parseError([], format: format) == .empty)
        }
    }

    @Test func onlyComments() {
        #expect(parseError("# nothing here\n; nor here\n\n  # indented\n") == .empty)
    }

    @Test func noValidEntry() {
        let error = parseError("foo\nbar\n")
        #expect(
            error
                == .noValidEntry(
                    rejected: 2,
                    firstError: ListEntryError(line: 1, reason: "not an IP address or prefix: 'foo'")
                )
        )
        #expect(
            error?.description
                == "the list has no valid entry (2 lines rejected); first: line 1: not an IP address or prefix: 'foo'"
        )
    }

    @Test func randomBinaryBytes() {
        var generator = SeededGenerator(seed: 42)
        for size in [64, 1000, 4096, 100_000] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            guard case .binary(let offset)? = parseError(bytes) else {
                Issue.record("random bytes of size \(size) were not refused as binary")
                continue
            }
            #expect(offset >= 0 && offset < size)
        }
    }

    @Test func binaryWithoutNul() {
        // Control bytes and invalid UTF-8, no NUL.
        let bytes: [UInt8] = (0..<512).map { UInt8(1 + ($0 * 37) % 31) } + [0xFF, 0xC0, 0x80, 0xFE]
        guard case .binary? = parseError(bytes) else {
            Issue.record("control bytes were not refused as binary")
            return
        }
    }

    @Test func nulByteLateInText() {
        var bytes = Array(text: String(repeating: "192.0.2.1\n", count: 1000))
        bytes[9_995] = 0
        #expect(parseError(bytes) == .binary(offset: 9_995))
        #expect(parseError(bytes)?.description == "the list looks binary (NUL or control byte at offset 9995)")
    }

    @Test func utf8TextIsNotBinary() throws {
        let list = try parse("# Liste der Ausgänge — ✓ ünïcödé 🚀\n192.0.2.1 # café\n")
        #expect(list.entries == [prefix("192.0.2.1")])
    }

    @Test func tenMegabyteLine() {
        let bytes = [UInt8](repeating: UInt8(ascii: "7"), count: 10_000_000)
        let clock = ContinuousClock()
        var error: ListError?
        let elapsed = clock.measure { error = parseError(bytes) }
        #expect(error == .lineTooLong(line: 1, length: 10_000_000))
        #expect(elapsed < .seconds(5), "took \(elapsed)")
    }

    @Test func longLineAfterGoodLines() {
        let text = "192.0.2.1\n192.0.2.2\r\n" + String(repeating: "a", count: 4097) + "\n192.0.2.3\n"
        #expect(parseError(text) == .lineTooLong(line: 3, length: 4097))
        let fits = "192.0.2.1\n" + String(repeating: "a", count: 4096) + "\r\n"
        #expect((try? parse(fits))?.rejected.count == 1)
        #expect(
            ListError.lineTooLong(line: 3, length: 4097).description == "line 3 is 4097 bytes long (the limit is 4096)"
        )
    }

    @Test func longLinesInOtherLineFormats() {
        let long = String(repeating: "x", count: 5000)
        #expect(parseError("ExitNode AB\nExitAddress 1.2.3.4 \(long)\n") == .lineTooLong(line: 2, length: 5020))
        #expect(parseError("network-status-version 3\np \(long)\n") == .lineTooLong(line: 2, length: 5002))
    }
}
