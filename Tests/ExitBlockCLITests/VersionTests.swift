import ArgumentParser
import Engine
import Foundation
import Stats
import Testing

@testable import ExitBlockCLI

/// The version line against sources it is not defined from: the argument parser's `--version`
/// handling, the machine's `uname`, and the format operators and packages rely on.
@Suite struct VersionTests {
    @Test func summaryNamesVersionSwiftAndTarget() {
        let build = MetricsSnapshot.BuildInfo(version: "1.2.3", swift: "6.3", commit: "v1.2.3-4-gabcdef0")
        #expect(build.summary == "1.2.3 (commit v1.2.3-4-gabcdef0, Swift 6.3, \(MetricsSnapshot.BuildInfo.target))")
        let noCommit = MetricsSnapshot.BuildInfo(version: "1.2.3", swift: "6.3", commit: "")
        #expect(noCommit.summary == "1.2.3 (Swift 6.3, \(MetricsSnapshot.BuildInfo.target))")
    }

    /// `exitblock --version`, as the argument parser answers it, is one well-formed line.
    @Test func versionFlagPrintsOneWellFormedLine() throws {
        var message = ""
        do {
            _ = try ExitBlockCommand.parseAsRoot(["--version"])
            Issue.record("--version did not exit")
        } catch {
            message = ExitBlockCommand.message(for: error)
        }
        let pattern =
            #"^exitblock [0-9]+\.[0-9]+\.[0-9]+ \((commit [A-Za-z0-9._+-]+, )?Swift 6\.[0-9]+, Linux [a-z0-9_]+\)$"#
        #expect(message.range(of: pattern, options: .regularExpression) != nil, "\(message)")
    }

    /// The target named in the version is the machine's architecture as `uname -m` says it.
    @Test func targetIsTheMachinesArchitecture() {
        var name = utsname()
        #expect(uname(&name) == 0)
        let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(MetricsSnapshot.BuildInfo.target == "Linux \(machine)")
    }

    /// The version is what Debian packaging and the metrics label expect: MAJOR.MINOR.PATCH.
    @Test func versionIsSemantic() {
        let parts = MetricsSnapshot.BuildInfo.version.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) })
    }

    @Test func versionSubcommandParses() throws {
        let command = try ExitBlockCommand.parseAsRoot(["version", "--fields"])
        #expect((command as? VersionCommand)?.fields == true)
    }
}
