import LinuxSystem
import ArgumentParser
import Engine
import Stats

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `exitblock check ADDRESS --socket PATH`: asks the running daemon (its stats socket's
/// `/explain`) and prints its answer. Exit status as `check`: 0 blocked, 1 not, 2 error.
struct CheckSocketCommand {
    var socket: String
    var address: String
    var port: UInt16?
    var transport: TransportProtocolArgument

    func run() throws {
        let target = ExplainRoute.target(address: address, port: port, transport: transport.rawValue)
        let answer: SetExplanation
        do {
            let body = try StatsClient(path: socket).get(target)
            answer = try JSONDecoder().decode(SetExplanation.self, from: Data(body))
        } catch {
            Output.error("stats socket \(socket): \(error)")
            throw ExitCode(Status.failure)
        }
        for line in answer.lines(now: Date().timeIntervalSince1970) { Output.line(line) }
        if !answer.blocked { throw ExitCode(Status.notBlocked) }
    }
}
