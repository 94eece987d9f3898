import ArgumentParser
import Engine
import ExitSet
import Testing

@testable import ExitBlockCLI

/// `run` and `bgp` take their lists through one option group: the same arguments make the
/// same refresher configuration, and the same mistakes are refused the same way.
@Suite struct SourceOptionsTests {
    private let listArguments = [
        "--list", "/x.list", "--list", "https://example.net/exits", "--format", "consensus",
        "--refresh-interval", "5m", "--max-shrink", "0.25", "--no-cache", "--max-prefix-ipv4", "20",
    ]

    @Test func runAndBGPReadTheListsTheSameWay() throws {
        let run = try RunCommand.parse(["--queue", "0"] + listArguments)
        let bgp = try BGPCommand.parse(listArguments)
        for configuration in [run.sourceOptions.configuration(), bgp.sourceOptions.configuration()] {
            #expect(configuration.sources.map(\.name) == ["/x.list", "https://example.net/exits"])
            #expect(configuration.format == .consensus)
            #expect(configuration.refreshInterval == 300)
            #expect(configuration.stateDirectory == nil)
            #expect(configuration.guards.maximumShrink == 0.25)
            #expect(configuration.guards.shortestIPv4Prefix == 20)
        }
    }

    @Test func bothRefuseAMissingListWithTheSameMessage() {
        for parse in [{ _ = try RunCommand.parse(["--queue", "0"]) }, { _ = try BGPCommand.parse([]) }] {
            do {
                try parse()
                Issue.record("parsed without --list")
            } catch {
                #expect(RunCommand.message(for: error) == "Missing expected argument '--list <path|url> ...'")
            }
        }
    }
}
