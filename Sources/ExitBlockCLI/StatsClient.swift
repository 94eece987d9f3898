import ExitBlock
import Foundation
import LinuxSystem

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny blocking HTTP/1.1 client over the stats Unix socket, for `stats` and `top`: one
/// request per connection ("Connection: close"), the answer read to the end.
struct StatsClient {
    /// Where `exitblock run` serves its stats unless told otherwise.
    static let defaultSocket = "/run/exitblock/exitblock.sock"

    /// Why a fetch failed.
    enum Failure: Error, CustomStringConvertible {
        case system(String, Int32)
        case badAnswer(String)
        case status(Int, String)

        var description: String {
            switch self {
            case .system(let call, let code): return "\(call): \(String(cString: strerror(code)))"
            case .badAnswer(let why): return "unexpected answer: \(why)"
            case .status(let code, let body): return "HTTP \(code): \(body)"
            }
        }
    }

    let path: String
    /// Seconds to wait for the answer.
    var timeout = 3

    /// GETs `target`; returns the body of a 200 answer.
    func get(_ target: String) throws(Failure) -> [UInt8] {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw .system("socket", errno) }
        defer { close(descriptor) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let address: UnixSocketAddress
        do {
            address = try UnixSocketAddress(path)
        } catch {
            throw .system("connect \(path)", error.rawValue)
        }
        if case .failure(let error) = address.connect(descriptor) { throw .system("connect \(path)", error.rawValue) }
        let request = Array("GET \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes {
                send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system("send", errno)
            }
            sent += count
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system("recv", errno)
            }
            if count == 0 { break }
            answer.append(contentsOf: chunk[..<count])
        }
        return try Self.body(of: answer)
    }

    /// Splits an HTTP answer; returns the body of a 200, throws with the status otherwise.
    static func body(of answer: [UInt8]) throws(Failure) -> [UInt8] {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = answer.indices.first(where: { answer[$0...].starts(with: separator) }) else {
            throw .badAnswer("no complete header (\(answer.count) bytes)")
        }
        let head = String(decoding: answer[..<end], as: UTF8.self)
        let body = Array(answer[(end + 4)...])
        let statusLine = head.split(separator: "\r\n").first ?? ""
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, let code = Int(fields[1]) else { throw .badAnswer(String(statusLine)) }
        guard code == 200 else {
            throw .status(code, String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return body
    }

    /// Fetches and decodes /stats.
    func stats() throws -> StatsJSON {
        try StatsJSON.decode(get("/stats"))
    }
}
