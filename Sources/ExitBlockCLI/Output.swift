import LinuxSystem

/// Where the CLI writes: results to stdout, messages to stderr.
enum Output {
    /// A line on stderr, prefixed with the program name.
    static func message(_ text: String) {
        CurrentProcess.printError("exitblock: \(text)")
    }

    /// An error line on stderr.
    static func error(_ text: String) {
        message("error: \(text)")
    }

    /// Text on stdout as is. A closed pipe ends the process quietly (SIGPIPE, as Unix
    /// tools end): `exitblock ... | head -1` is the end of output, not an error.
    static func write(_ text: String) {
        CurrentProcess.writeStandardOutput(text)
    }

    /// A line on stdout, written at once (the daemon's output may go to a pipe).
    static func line(_ text: String) {
        CurrentProcess.writeStandardOutput(text + "\n")
    }
}

/// Exit codes shared by the subcommands.
enum Status {
    /// `check`: the address is not blocked.
    static let notBlocked: Int32 = 1
    /// A list or another input could not be used.
    static let failure: Int32 = 2
}
