import ListSources
import Testing

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("90s", 90.0), ("30m", 1800), ("1h", 3600), ("1h30m", 5400), ("500ms", 0.5), ("2d", 172_800),
        ("45", 45), ("0.5", 0.5), ("1.5h", 5400), (" 30m ", 1800), ("1H", 3600),
    ])
    func parses(_ text: String, _ seconds: Double) throws {
        #expect(try DurationText.seconds(text) == seconds)
    }

    @Test(arguments: ["", "m", "abc", "5x", "-1s", "1h-", "s30", "1..5s", "nan", "inf"])
    func refuses(_ text: String) {
        #expect(throws: DurationText.Error(text: text)) { try DurationText.seconds(text) }
    }

    @Test func formats() throws {
        #expect(DurationText.format(1800) == "30m")
        #expect(DurationText.format(90) == "1m30s")
        #expect(DurationText.format(3600 * 26) == "1d2h")
        #expect(DurationText.format(0.25) == "250ms")
        #expect(try DurationText.seconds(DurationText.format(5400)) == 5400)
    }
}
