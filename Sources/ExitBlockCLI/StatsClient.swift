import AsyncHTTPClient
import Engine
import NIOCore
import NIOPosix
import Stats
import SystemPackage

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A blocking HTTP client of the stats Unix socket, for `stats` and `top`, on
/// AsyncHTTPClient (http+unix URLs).
struct StatsClient {
    /// Where `exitblock run` serves its stats unless told otherwise.
    static let defaultSocket = "/run/exitblock/exitblock.sock"

    /// Why a fetch failed.
    enum Failure: Error, CustomStringConvertible {
        case system(String, Errno)
        case badAnswer(String)
        case status(Int, String)

        var description: String {
            switch self {
            case .system(let call, let code): return "\(call): \(code)"
            case .badAnswer(let why): return "unexpected answer: \(why)"
            case .status(let code, let body): return "HTTP \(code): \(body)"
            }
        }
    }

    let path: String
    /// Seconds to wait for the answer.
    var timeout = 3

    /// GETs `target` over the socket (AsyncHTTPClient's http+unix support); returns the body
    /// of a 200 answer. Blocks the calling thread, which is what `stats` and `top` want.
    func get(_ target: String) throws(Failure) -> [UInt8] {
        guard let url = URL(httpURLWithSocketPath: path, uri: target) else {
            throw .badAnswer("cannot make a URL of socket \(path) and \(target)")
        }
        let response: HTTPClient.Response
        do {
            response = try HTTPClient.shared.get(url: url.absoluteString, deadline: .now() + .seconds(Int64(timeout)))
                .wait()
        } catch let error as IOError {
            throw .system("connect \(path)", Errno(rawValue: error.errnoCode))
        } catch let error as NIOConnectionError {
            let code = (error.connectionErrors.first?.error as? IOError)?.errnoCode
            if let code { throw .system("connect \(path)", Errno(rawValue: code)) }
            throw .badAnswer("\(error)")
        } catch {
            throw .badAnswer("\(error)")
        }
        let body = response.body.map { Array($0.readableBytesView) } ?? []
        guard response.status == .ok else {
            let text = String(decoding: body, as: UTF8.self).trimmingWhitespace()
            throw .status(Int(response.status.code), text)
        }
        return body
    }

    /// Fetches and decodes /stats.
    func stats() throws -> StatsJSON {
        try StatsJSON.decode(get("/stats"))
    }
}
