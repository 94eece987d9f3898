import LinuxSystem
import ArgumentParser
import Engine

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
        var target =
            "/explain?address=" + Self.percentEncoded(address)
        if let port { target += "&port=\(port)&protocol=\(transport.rawValue)" }
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

    /// `text` with every byte outside [A-Za-z0-9.:-] written as %XX. By hand: Foundation's
    /// `addingPercentEncoding` brings FoundationInternationalization and its ICU data into the binary.
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF")
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "-"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }
}
