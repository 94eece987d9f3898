import ArgumentParser
import Engine
import ExitSet
import Foundation
import Rules
import Testing

@testable import ExitBlockCLI
@testable import ExitBlockConfiguration

/// `rules install` options: what they make of the command line, and of the [rules] table of a
/// config file (through the real command tree, so the keys are the real option names).
@Suite struct RuleOptionsTests {
    @Test func defaultsAreForwardBothFamiliesQueue0Bypass() throws {
        let options = try RuleOptions.parse([])
        #expect(options.settings == RuleSettings())
    }

    @Test func everyOptionMapsToItsSetting() throws {
        let options = try RuleOptions.parse([
            "--hook", "both", "--queue", "2-5", "--no-queue-bypass", "--queue-cpu-fanout", "--family", "ipv6",
            "--in-interface", "eth0", "--protocol", "udp", "--protocol", "tcp", "--destination-port", "443",
            "--skip-destination", "2001:db8::/32", "--mode", "flow", "--reject", "--reject-mark", "0x10",
            "--backend", "legacy",
        ])
        var expected = RuleSettings()
        expected.hooks = [.input, .forward]
        expected.queues = 2...5
        expected.queueBypass = false
        expected.queueCPUFanout = true
        expected.families = [.ipv6]
        expected.inInterfaces = ["eth0"]
        expected.protocols = [.udp, .tcp]
        expected.destinationPorts = [RuleSettings.PortRange(443, 443)!]
        expected.skipDestinations = [IPPrefix("2001:db8::/32")!]
        expected.mode = .flow
        expected.reject = true
        expected.rejectMark = 16
        expected.backend = .legacy
        #expect(options.settings == expected)
        #expect(
            try RuleOptions.parse(["--protocol", "icmpv6", "--protocol", "ipv6-icmp"]).settings.protocols == [
                .icmp, .icmp,
            ]
        )
    }

    @Test func badValuesAreRefusedNamingTheOption() {
        for arguments in [
            ["--queue", "3-1"], ["--destination-port", "0"], ["--skip-destination", "10.0.0.0/33"],
            ["--reject-mark", "0xZZ"], ["--protocol", "icmp6x"], ["--hook", "output"], ["--queue-cpu-fanout"],
            ["--in-interface", "eth 0"],
        ] {
            #expect(throws: (any Error).self, "\(arguments)") { _ = try RuleOptions.parse(arguments) }
        }
    }

    @Test func theRulesTableOfAConfigFileFillsTheSameSettings() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("eb-rules-\(UUID()).toml").path
        try """
        [run]
        queue = ["0-3"]
        list = ["/x"]

        [rules]
        queue = "0-3"
        hook = ["input", "forward"]
        queue-bypass = false
        skip-destination = ["10.0.0.0/8"]
        mode = "flow"
        reject = true
        reject-mark = "0x4543"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let expansion = try ConfigExpansion(
            arguments: ["rules", "install", "--config", path, "--mode", "packet"],
            root: ExitBlockCommand.self
        )
        let command = try ExitBlockCommand.parseAsRoot(expansion.arguments)
        let install = try #require(command as? RulesCommand.Install)
        var expected = RuleSettings()
        expected.queues = 0...3
        expected.hooks = [.input, .forward]
        expected.queueBypass = false
        expected.skipDestinations = [IPPrefix("10.0.0.0/8")!]
        expected.mode = .packet  // the command line wins
        expected.reject = true
        expected.rejectMark = 0x4543
        #expect(install.options.settings == expected)
    }

    @Test func theShippedExampleShowsEveryRulesKey() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../dist/exitblock.toml").standardized
        let text = try String(contentsOf: url, encoding: .utf8)
        let rules = try #require(ConfigSchema.load(root: ExitBlockCommand.self).table("rules"))
        #expect(rules.path == ["rules", "install"])
        #expect(rules.keys.count == 20)
        for key in rules.keys {
            #expect(text.contains("# \(key.name) = "), "dist/exitblock.toml does not show the [rules] key \(key.name)")
        }
    }
}
