import ArgumentParser
import ExitBlock
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Live view of the running exitblock, refreshed every second; q quits.",
        discussion: """
            Shows rates, drop ratio, queue fill, set age and refresh status, redrawn in place \
            with plain ANSI sequences (works over SSH and in tmux). Keys: q, Q, Escape or Ctrl-C \
            quit; the terminal is restored on exit.
            """
    )

    @Option(help: ArgumentHelp("The stats socket of `exitblock run`.", valueName: "path"))
    var socket: String = StatsClient.defaultSocket

    @Option(help: "Seconds between refreshes.")
    var interval: Double = 1

    func run() throws {
        let client = StatsClient(path: socket)
        let terminal = RawTerminal()
        defer { terminal.restore() }
        var previous: StatsJSON?
        var quit = false
        while !quit {
            var lines: [String]
            do {
                let current = try client.stats()
                lines = StatsSummary(current: current, previous: previous).lines
                previous = current
            } catch {
                lines = ["cannot read \(socket): \(error)", "retrying every \(StatsSummary.number(interval)) s"]
                previous = nil
            }
            let stamp = DateFormatter.localizedString(from: Date(), dateStyle: .none, timeStyle: .medium)
            var screen = "\u{1B}[H\u{1B}[2J"
            screen += "exitblock top  \(stamp)  (q quits)\r\n\r\n"
            screen += lines.joined(separator: "\r\n") + "\r\n"
            Output.write(screen)
            quit = terminal.waitForQuit(seconds: interval)
        }
    }
}

/// The terminal in "cbreak without signals" mode for `top`: no echo, no line buffering, keys
/// read one by one; Ctrl-C arrives as a byte (so the terminal is restored by us, not lost).
/// Does nothing when standard input is not a terminal.
final class RawTerminal {
    private var saved = termios()
    private let active: Bool

    init() {
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
        if active { Output.write("\u{1B}[?1049h\u{1B}[?25l") }
    }

    /// Waits up to `seconds` for a key; true when it is one that quits (q, Q, Esc, Ctrl-C,
    /// Ctrl-D) or when input is closed.
    func waitForQuit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let left = deadline.timeIntervalSinceNow
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
    func restore() {
        guard active else { return }
        Output.write("\u{1B}[?25h\u{1B}[?1049l")
        tcsetattr(STDIN_FILENO, TCSANOW, &saved)
    }
}
