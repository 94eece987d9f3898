import ArgumentParser

/// `exitblock config`: the config file's subcommands.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a config file and show the settings it makes.",
        discussion: """
            The config file is TOML. Its [run] table holds settings of `exitblock run`, its [rules] \
            table those of `exitblock rules install`; a key is the long option name without the \
            dashes (queue = ["0-3"], copy-range = 128, dry-run = true, gso = false). Keys at the top \
            level belong to [run]. Repeatable options take an array (or one value); flags take \
            true or false. `exitblock run --config FILE` reads it; an option given on the command \
            line replaces the file's value for that key.
            """,
        subcommands: [ConfigCheckCommand.self, ConfigManCommand.self]
    )
}
