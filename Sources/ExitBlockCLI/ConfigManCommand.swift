import ArgumentParser
import ExitBlockConfiguration
import LinuxSystem
import Stats

/// `exitblock config man`: prints the manual page exitblock.toml(5), rendered from the same
/// schema `config check` validates against (the package installs its output).
struct ConfigManCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "man",
        abstract: "Print the manual page of the config file, exitblock.toml(5), in man(7) format.",
        discussion: """
            The page lists every table and key this version knows, with its type, default and \
            meaning, read from the commands' own option definitions (the schema `exitblock \
            config check` uses). View it with: exitblock config man | man -l -
            """
    )

    func run() throws {
        let schema = ConfigSchema.load(root: ExitBlockCommand.self)
        Output.write(ConfigManual(schema: schema, source: "exitblock " + MetricsSnapshot.BuildInfo.version).text)
    }
}
