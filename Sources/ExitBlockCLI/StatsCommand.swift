import ArgumentParser
import Engine
import Foundation
import LinuxSystem
import Stats

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Summarize what the running exitblock is doing: rates, drop ratio, set age, queue health.",
        discussion: """
            Reads /stats from the stats socket twice, --interval seconds apart, and prints rates \
            over that interval, totals, the set in force and its sources, and one line per queue \
            with the kernel's figures (packets waiting, queue and user drops). With --json it \
            prints the second sample as the JSON document the socket serves. Exit status 1 when \
            the daemon reports itself unhealthy, 2 when it cannot be reached.
            """
    )

    @Option(help: ArgumentHelp("The stats socket of `exitblock run`.", valueName: "path"))
    var socket: String = StatsClient.defaultSocket

    @Flag(help: "Print the raw JSON document instead of the summary.")
    var json = false

    @Option(help: "Seconds between the two samples the rates are computed from (0: one sample, no rates).")
    var interval: Double = 1

    func run() throws {
        let client = StatsClient(path: socket)
        do {
            if json {
                if interval > 0 { Thread.sleep(forTimeInterval: interval) }
                Output.write(String(decoding: try client.get("/stats"), as: UTF8.self) + "\n")
                return
            }
            var previous: StatsJSON?
            if interval > 0 {
                previous = try client.stats()
                Thread.sleep(forTimeInterval: interval)
            }
            let current = try client.stats()
            for line in StatsSummary(current: current, previous: previous).lines { Output.line(line) }
            if !current.healthy { throw ExitCode(1) }
        } catch let error as ExitCode {
            throw error
        } catch {
            Output.error("stats socket \(socket): \(error)")
            throw ExitCode(Status.failure)
        }
    }
}
