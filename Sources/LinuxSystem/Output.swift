import Foundation

/// Where the process writes: results to stdout, messages to stderr.
public enum Output {
    /// A line on stderr, prefixed with the program name.
    public static func message(_ text: String) {
        FileHandle.standardError.write(Data("exitblock: \(text)\n".utf8))
    }

    /// An error line on stderr.
    public static func error(_ text: String) {
        message("error: \(text)")
    }

    /// Text on stdout as is.
    public static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// A line on stdout, flushed at once (the daemon's output may go to a pipe).
    public static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
