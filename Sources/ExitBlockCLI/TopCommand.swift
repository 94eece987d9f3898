import ArgumentParser
import Engine
import LinuxSystem
import Stats

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
            let stamp = LocalTime.timeOfDay()
            var screen = "\u{1B}[H\u{1B}[2J"
            screen += "exitblock top  \(stamp)  (q quits)\r\n\r\n"
            screen += lines.joined(separator: "\r\n") + "\r\n"
            Output.write(screen)
            quit = terminal.waitForQuit(seconds: interval)
        }
    }
}
