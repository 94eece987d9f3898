import SystemPackage

/// Where the CLI writes: results to stdout, messages to stderr.
enum Output {
    /// A line on stderr, prefixed with the program name.
    static func message(_ text: String) {
        _ = try? FileDescriptor.standardError.writeAll("exitblock: \(text)\n".utf8)
    }

    /// An error line on stderr.
    static func error(_ text: String) {
        message("error: \(text)")
    }

    /// Text on stdout as is.
    static func write(_ text: String) {
        _ = try? FileDescriptor.standardOutput.writeAll(text.utf8)
    }

    /// A line on stdout, flushed at once (the daemon's output may go to a pipe).
    static func line(_ text: String) {
        _ = try? FileDescriptor.standardOutput.writeAll((text + "\n").utf8)
    }
}

/// Exit codes shared by the subcommands.
enum Status {
    /// `check`: the address is not blocked.
    static let notBlocked: Int32 = 1
    /// A list or another input could not be used.
    static let failure: Int32 = 2
}
