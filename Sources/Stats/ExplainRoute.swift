import Engine
import ExitSet
import ListSources

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `GET /explain?address=ADDRESS[&port=PORT][&protocol=tcp|udp]` on the stats socket: why the
/// running daemon blocks or lets through ADDRESS, from the sets it judges with (a
/// `SetExplanation` as JSON). Read-only; the query is at most a few dozen bytes, and the
/// request guard bounds it like every other request. A bad query is a 400 naming the problem.
public struct ExplainRoute: Sendable {
    public static let path = "/explain"

    /// Explains an address and optional port over transport 6 or 17, now.
    public let explain: @Sendable (IPAddress, UInt16?, UInt8) -> SetExplanation
    /// The sources' figures (last success, last attempt, max age), to date the listing sources.
    public let sources: @Sendable () -> MetricsSnapshot?

    public init(
        sources: @escaping @Sendable () -> MetricsSnapshot? = { nil },
        explain: @escaping @Sendable (IPAddress, UInt16?, UInt8) -> SetExplanation
    ) {
        self.sources = sources
        self.explain = explain
    }

    /// The request target that asks about `address` (and `port` over `transport`, "tcp" or
    /// "udp"): what `exitblock check --socket` sends and `query` reads back.
    public static func target(address: String, port: UInt16? = nil, transport: String = "tcp") -> String {
        var target = path + "?address=" + percentEncoded(address)
        if let port { target += "&port=\(port)&protocol=" + percentEncoded(transport) }
        return target
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

    /// The query of `uri` as name/value pairs (percent-decoded; `+` is not a space here).
    static func query(_ uri: String) -> [String: String] {
        guard let mark = uri.firstIndex(of: "?") else { return [:] }
        var values: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecoded(parts[0]) ?? String(parts[0])
            let value = parts.count > 1 ? (percentDecoded(parts[1]) ?? String(parts[1])) : ""
            values[name] = value
        }
        return values
    }

    /// `text` with each `%XX` replaced by its byte; nil when an escape is malformed or the
    /// bytes are not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index != utf8.endIndex {
            let byte = utf8[index]
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                index = utf8.index(after: index)
                continue
            }
            let high = utf8.index(after: index)
            guard high != utf8.endIndex, utf8.index(after: high) != utf8.endIndex else { return nil }
            let low = utf8.index(after: high)
            guard let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(value)
            index = utf8.index(after: low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    func respond(uri: String) -> StatsRoutes.Response {
        let query = Self.query(uri)
        guard let text = query["address"], let address = IPAddress(text) else {
            return .text(400, "Bad Request", "give address=IPv4 or IPv6 address, optionally port= and protocol=")
        }
        var port: UInt16?
        if let text = query["port"] {
            guard let value = UInt16(text), value > 0 else { return .text(400, "Bad Request", "port: 1 to 65535") }
            port = value
        }
        let transport: UInt8
        switch query["protocol"] ?? "tcp" {
        case "tcp": transport = 6
        case "udp": transport = 17
        default: return .text(400, "Bad Request", "protocol: tcp or udp")
        }
        var answer = explain(address, port, transport)
        if let snapshot = sources() { answer.date(from: snapshot) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(answer)) ?? Data()
        let body = [UInt8](data) + [0x0a]
        return StatsRoutes.Response(status: 200, reason: "OK", contentType: StatsJSON.contentType, body: body)
    }
}

extension SetExplanation {
    /// Fills each listing source's refresh times and staleness from the stats figures.
    mutating func date(from snapshot: MetricsSnapshot) {
        for index in sources.indices {
            guard let figures = snapshot.sources.first(where: { $0.path == sources[index].source }) else { continue }
            sources[index].lastSuccess = figures.lastSuccess
            sources[index].lastAttempt = figures.lastRefresh
            sources[index].stale = snapshot.isStale(figures)
        }
    }
}

extension ExplainRoute {
    /// The route of a running daemon: explains from the engine's sets and policy in force,
    /// names the sources of `listings`, dates them from `snapshot`'s source figures.
    public init(
        engine: Engine,
        listings: SourceListings?,
        snapshot: @escaping @Sendable () -> MetricsSnapshot
    ) {
        self.init(sources: snapshot) { address, port, transport in
            SetExplanation.explain(
                address,
                port: port,
                transport: transport,
                sets: engine.cell.snapshot,
                policy: engine.configuration.policy,
                sourcesHolding: listings.map { listings in { listings.explanationSources(holding: $0) } }
            )
        }
    }
}

extension SourceListings {
    /// The sources holding `entry`, as an explanation names them (with each one's own port
    /// policy for the entry, when it published one).
    public func explanationSources(holding entry: IPPrefix) -> [SetExplanation.Source] {
        sources(holding: entry).map { listing in
            SetExplanation.Source(source: listing.source, policy: listing.policies[entry].map(\.summary) ?? "")
        }
    }
}
