import Testing

@testable import ExitBlockCLI
import ExitBlockConfiguration

/// exitblock.toml(5) is rendered from the configuration schema: every table and every key
/// the schema knows is on the page, with its default, and nothing breaks the man(7) syntax.
@Suite struct ConfigManualTests {
    let schema = ConfigSchema.load(root: ExitBlockCommand.self)
    var page: String { ConfigManual(schema: schema, source: "exitblock 1.2.3").text }

    @Test func everyTableAndKeyOfTheSchemaIsOnThePage() throws {
        #expect(!schema.tables.isEmpty)
        let lines = page.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for table in schema.tables {
            #expect(lines.contains(".SH \"[\(table.name)] TABLE\""), "[\(table.name)]")
            for key in table.keys {
                #expect(lines.contains(".B " + ConfigManual.escape(key.name)), "[\(table.name)] \(key.name)")
            }
        }
        #expect(page.hasPrefix(".TH EXITBLOCK.TOML 5 \"\" \"exitblock 1.2.3\""))
    }

    @Test func entriesSayTypeDefaultAndOption() throws {
        let run = try #require(schema.table("run"))
        let copyRange = ConfigManual.entry(try #require(run.key("copy-range")))
        #expect(copyRange.contains("default: 64"), "\(copyRange)")
        #expect(copyRange.contains("command line: \\-\\-copy\\-range"), "\(copyRange)")
        let gso = ConfigManual.entry(try #require(run.key("gso")))
        #expect(gso.contains("boolean; default: true; command line: \\-\\-gso / \\-\\-no\\-gso"), "\(gso)")
        let queue = ConfigManual.entry(try #require(run.key("queue")))
        #expect(queue.contains("an array of strings or numbers <n>, or one"), "\(queue)")
    }

    @Test func textIsEscaped() {
        #expect(ConfigManual.escape(".x\n'y\na-b\\c") == "\\&.x\n\\&'y\na\\-b\\ec")
        for line in page.split(separator: "\n") where !line.hasPrefix(".") {
            #expect(!line.hasPrefix("'"), "\(line)")
        }
    }
}
