import ArgumentParser
import Foundation
import Testing

@testable import ExitBlockCLI
import ExitBlockConfiguration

/// The shipped configuration's sources and `check`'s ways of judging.
@Suite struct DefaultSourcesTests {
    private var exampleURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../dist/exitblock.toml")
            .standardized
    }

    @Test func shippedConfigurationListsTheBulkListAndOnionooExits() throws {
        let file = try ConfigFile(path: exampleURL.path, schema: ConfigSchema.load(root: ExitBlockCommand.self))
        let run = try RunCommand.parse(file.arguments(of: "run"))
        let lists = run.sourceOptions.lists
        #expect(lists.count == 2)
        #expect(lists[0] == "https://check.torproject.org/torbulkexitlist")
        #expect(lists[1].hasPrefix("https://onionoo.torproject.org/details?search=flag:exit%20running:true&fields="))
        for field in ["or_addresses", "exit_addresses", "flags", "exit_policy_summary", "exit_policy_v6_summary"] {
            #expect(lists[1].contains(field), "the Onionoo URL asks for \(field)")
        }
        #expect(run.sourceOptions.maxSourceAge.seconds == 4 * 3600)
        #expect(run.sourceOptions.configuration().maxSourceAge == 4 * 3600)
    }

    @Test func checkTakesExactlyOneWayOfJudging() throws {
        #expect(throws: (any Error).self) { try CheckCommand.parse(["192.0.2.1"]) }
        #expect(throws: (any Error).self) { try CheckCommand.parse(["192.0.2.1", "--list", "a", "--socket", "s"]) }
        #expect(throws: (any Error).self) { try CheckCommand.parse(["192.0.2.1", "--socket", "s", "--config", "c"]) }
        _ = try CheckCommand.parse(["192.0.2.1", "--socket", "/run/exitblock/exitblock.sock"])
        _ = try CheckCommand.parse(["192.0.2.1:443", "--config", "/etc/exitblock/exitblock.toml"])
        _ = try CheckCommand.parse(["192.0.2.1", "--list", "a", "--list", "b"])
    }
}
