import ArgumentParser
import Engine
import LinuxSystem
import Stats

/// `exitblock version`: the same line as `exitblock --version` and the labels of the
/// `exitblock_build_info` metric, from one source (MetricsSnapshot.BuildInfo).
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version, the build's git commit, the Swift version and the target."
    )

    @Flag(help: "Print the fields one per line as KEY=VALUE.")
    var fields = false

    func run() {
        let build = MetricsSnapshot.BuildInfo()
        guard fields else {
            Output.line("exitblock " + build.summary)
            return
        }
        Output.line("version=\(build.version)")
        Output.line("commit=\(build.commit)")
        Output.line("swift=\(build.swift)")
        Output.line("target=\(MetricsSnapshot.BuildInfo.target)")
    }
}
