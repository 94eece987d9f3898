import ExitBlock
import Testing

@testable import ExitBlockCLI

@Suite struct VersionTests {
    @Test func summaryNamesVersionSwiftAndTarget() {
        let build = MetricsSnapshot.BuildInfo(version: "1.2.3", swift: "6.3", commit: "v1.2.3-4-gabcdef0")
        #expect(build.summary == "1.2.3 (commit v1.2.3-4-gabcdef0, Swift 6.3, \(MetricsSnapshot.BuildInfo.target))")
        let noCommit = MetricsSnapshot.BuildInfo(version: "1.2.3", swift: "6.3", commit: "")
        #expect(noCommit.summary == "1.2.3 (Swift 6.3, \(MetricsSnapshot.BuildInfo.target))")
    }

    @Test func versionFlagAndSubcommandAgreeWithTheMetrics() {
        #expect(ExitBlockCommand.configuration.version == "exitblock " + MetricsSnapshot.BuildInfo().summary)
        #expect(MetricsSnapshot.BuildInfo().version == MetricsSnapshot.BuildInfo.version)
    }
}
