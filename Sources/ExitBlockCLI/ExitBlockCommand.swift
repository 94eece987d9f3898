import ArgumentParser
import Engine
import ExitBlockConfiguration
import LinuxSystem
import Stats

@main
struct ExitBlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exitblock",
        abstract: "Drop traffic from Tor exit nodes inline, through NFQUEUE.",
        discussion: """
            iptables/ip6tables rules hand packets to an NFQUEUE; exitblock reads each packet's \
            source address, looks it up in the exit set loaded from one or more lists, and answers \
            ACCEPT or DROP. Start it with `exitblock run`, then put the rules in, for example:

              exitblock rules install --queue 0          (FORWARD, IPv4 and IPv6, --queue-bypass)
            """,
        version: "exitblock " + MetricsSnapshot.BuildInfo().summary,
        subcommands: [
            RunCommand.self, CheckCommand.self, ListCommand.self, StatsCommand.self, TopCommand.self,
            ConfigCommand.self, VersionCommand.self, RulesCommand.self, BGPCommand.self,
        ]
    )

    /// Parses the command line with `--config FILE` applied (see ConfigExpansion), then runs
    /// the command. A parse error about a setting from the file names its file and line.
    static func main() {
        let given = Array(CommandLine.arguments.dropFirst())
        let expansion: ConfigExpansion
        do {
            expansion = try ConfigExpansion(arguments: given, root: Self.self)
        } catch {
            Output.error("\(error)")
            Self.exit(withError: ExitCode(Status.failure))
        }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(expansion.arguments)
        } catch {
            let code = exitCode(for: error)
            guard code != .success, expansion.file != nil else { Self.exit(withError: error) }
            Output.error(expansion.locate(message(for: error)))
            Self.exit(withError: ExitCode(Status.failure))
        }
        do {
            try command.run()
        } catch {
            Self.exit(withError: error)
        }
    }
}
