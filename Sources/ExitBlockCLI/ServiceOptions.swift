import ArgumentParser

/// `--config FILE`, for every command that has a table in the config file.
struct ConfigFileOption: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "Read settings from this TOML file first (keys are the long option names); options given on the "
                + "command line override the file's.",
            valueName: "file"
        )
    )
    var path: String?
}

/// The options of `run` that concern running as a service.
struct ServiceOptions: ParsableArguments {
    @OptionGroup var configFile: ConfigFileOption

    @Option(
        help: ArgumentHelp(
            "After binding the queues and opening the stats socket, switch to this user (and its group), "
                + "keeping only CAP_NET_ADMIN.",
            valueName: "name"
        )
    )
    var user: String?

    @Option(
        help: ArgumentHelp(
            "Restart without a gap: a starting exitblock takes the bound queues of the one serving this Unix "
                + "socket (which then exits), and serves it itself for the next; \"off\" binds the queues anew.",
            valueName: "path|off"
        )
    )
    var handoverSocket: String = "/run/exitblock/handover.sock"

    /// The hand-over socket's path, nil when off.
    var handoverPath: String? { handoverSocket == "off" || handoverSocket.isEmpty ? nil : handoverSocket }
}
