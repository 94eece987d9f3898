import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The terminal in "cbreak without signals" mode for `top`: no echo, no line buffering, keys
/// read one by one; Ctrl-C arrives as a byte (so the terminal is restored by us, not lost).
/// Does nothing when standard input is not a terminal.
public final class RawTerminal {
    private var saved = termios()
    private let active: Bool

    public init() {
        guard isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &saved) == 0 else {
            active = false
            return
        }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        active = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0
        // Alternate screen, hidden cursor.
        if active { Self.write("\u{1B}[?1049h\u{1B}[?25l") }
    }

    /// Waits up to `seconds` for a key; true when it is one that quits (q, Q, Esc, Ctrl-C,
    /// Ctrl-D) or when input is closed.
    public func waitForQuit(seconds: Double) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while true {
            let left = Self.seconds(ContinuousClock.now.duration(to: deadline))
            if left <= 0 { return false }
            var poller = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(left * 1000) + 1)
            if ready <= 0 { continue }
            var byte: UInt8 = 0
            let count = read(STDIN_FILENO, &byte, 1)
            if count == 0 && !active { usleep(UInt32(max(0, left) * 1_000_000)); return false }
            if count == 0 { return true }
            if count < 0 { continue }
            if [UInt8(ascii: "q"), UInt8(ascii: "Q"), 0x1B, 0x03, 0x04].contains(byte) { return true }
        }
    }

    /// Puts the terminal back as it was.
    public func restore() {
        guard active else { return }
        Self.write("\u{1B}[?25h\u{1B}[?1049l")
        tcsetattr(STDIN_FILENO, TCSANOW, &saved)
    }

    /// Writes control sequences to standard output (unbuffered, as the screen is).
    private static func write(_ text: String) {
        _ = try? FileDescriptor.standardOutput.writeAll(text.utf8)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
