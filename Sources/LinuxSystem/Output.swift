/// Where the process writes: results to stdout, messages to stderr.
public enum Output {
    /// A line on stderr, prefixed with the program name.
    public static func message(_ text: String) {
        CurrentProcess.printError("exitblock: \(text)")
    }

    /// An error line on stderr.
    public static func error(_ text: String) {
        message("error: \(text)")
    }

    /// Text on stdout as is. A closed pipe ends the process quietly (SIGPIPE, as Unix
    /// tools end): `exitblock ... | head -1` is the end of output, not an error.
    public static func write(_ text: String) {
        CurrentProcess.writeStandardOutput(text)
    }

    /// A line on stdout, written at once (the daemon's output may go to a pipe).
    public static func line(_ text: String) {
        CurrentProcess.writeStandardOutput(text + "\n")
    }
}
