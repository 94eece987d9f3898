import Engine
import Foundation
import NIOCore
import Stats
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The stats server over a real Unix socket in a temporary directory.
@Suite(.serialized) struct StatsServerTests {
    private func withServer(
        bound: Bool = true,
        configure: (inout StatsServer.Configuration) -> Void = { _ in },
        _ body: (String) throws -> Void
    ) throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/run/stats.sock"  // The parent directory does not exist yet.
        var configuration = StatsServer.Configuration(socketPath: path)
        configure(&configuration)
        let snapshot = StatsFixture.snapshot(bound: bound)
        let server = try StatsServer.start(configuration, routes: StatsRoutes { snapshot })
        defer { server.stop() }
        try body(path)
    }

    private func status(_ answer: String?) -> Int? {
        answer.flatMap { $0.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } }
    }

    private func body(_ answer: String?) -> String {
        guard let answer, let range = answer.range(of: "\r\n\r\n") else { return "" }
        return String(answer[range.upperBound...])
    }

    @Test func servesMetricsStatsAndHealth() throws {
        try withServer { path in
            var info = stat()
            #expect(lstat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o660)
            let metrics = RawUnixClient.get(path, "/metrics")
            #expect(status(metrics) == 200)
            #expect(metrics?.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8") == true)
            #expect(
                body(metrics) == String(decoding: PrometheusExposition(StatsFixture.snapshot()).bytes, as: UTF8.self)
            )
            let stats = RawUnixClient.get(path, "/stats?pretty=1")
            #expect(status(stats) == 200)
            let decoded = try StatsJSON.decode(Array(body(stats).utf8))
            #expect(decoded == StatsJSON(StatsFixture.snapshot()))
            let health = RawUnixClient.get(path, "/healthz")
            #expect(status(health) == 200)
            #expect(body(health) == "ok\n")
        }
    }

    @Test func unhealthyIs503WithWhy() throws {
        try withServer(bound: false) { path in
            let health = RawUnixClient.get(path, "/healthz")
            #expect(status(health) == 503)
            #expect(body(health) == "unhealthy: queue 1 unbound for 2.5 s\n")
        }
    }

    @Test func clearErrors() throws {
        try withServer { path in
            let missing = RawUnixClient.get(path, "/nope")
            #expect(status(missing) == 404)
            #expect(body(missing).hasPrefix("not found: /nope"))
            let post = RawUnixClient.get(path, "/metrics", method: "POST")
            #expect(status(post) == 405)
            #expect(post?.contains("Allow: GET, HEAD") == true)
            let garbage = RawUnixClient(path: path)!
            garbage.send("\u{1}\u{2}garbage that is no HTTP\r\n\r\n")
            #expect(status(garbage.readAll()) == 400)
            garbage.close()
        }
    }

    @Test func oversizedRequestGets413AndIsClosed() throws {
        try withServer { path in
            let client = RawUnixClient(path: path)!
            defer { client.close() }
            client.send(
                "GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + String(repeating: "a", count: 20_000)
                    + "\r\n\r\n"
            )
            let answer = client.readAll()
            #expect(status(answer) == 413)
            #expect(body(answer) == "request too large: at most 8192 bytes\n")
        }
    }

    @Test func silentClientIsDroppedAfterTheTimeout() throws {
        try withServer(configure: { $0.requestTimeout = .milliseconds(300) }) { path in
            let client = RawUnixClient(path: path, timeoutSeconds: 5)!
            defer { client.close() }
            let start = Date()
            #expect(client.readAll() == "")  // Closed by the server, nothing said.
            #expect(Date().timeIntervalSince(start) < 3)
        }
    }

    @Test func keepAliveServesSeveralRequests() throws {
        try withServer { path in
            let client = RawUnixClient(path: path)!
            defer { client.close() }
            client.send(
                "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
            )
            let answer = client.readAll() ?? ""
            #expect(answer.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        }
    }

    @Test func manyConcurrentClients() throws {
        try withServer { path in
            let ok = Counter200()
            DispatchQueue.concurrentPerform(iterations: 200) { index in
                let answer = RawUnixClient.get(path, index % 2 == 0 ? "/metrics" : "/healthz")
                if answer?.hasPrefix("HTTP/1.1 200 OK") == true { ok.add() }
            }
            #expect(ok.value == 200)
        }
    }

    @Test func connectionsOverTheCapGet503() throws {
        try withServer(configure: { $0.maxConnections = 3 }) { path in
            let held = (0..<3).map { _ in RawUnixClient(path: path)! }
            defer { held.forEach { $0.close() } }
            usleep(100_000)
            let refused = RawUnixClient.get(path, "/healthz")
            #expect(status(refused) == 503)
        }
    }

    @Test func staleSocketIsReplacedAndLiveOneRefused() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/stats.sock"
        // A socket file nobody listens on, as a crashed daemon leaves it.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        close(stale)
        let snapshot = StatsFixture.snapshot()
        let server = try StatsServer.start(
            StatsServer.Configuration(socketPath: path),
            routes: StatsRoutes { snapshot }
        )
        defer { server.stop() }
        #expect(status(RawUnixClient.get(path, "/healthz")) == 200)
        #expect(throws: StatsServerError.socketInUse(path: path)) {
            try StatsServer.start(StatsServer.Configuration(socketPath: path), routes: StatsRoutes { snapshot })
        }
        // A regular file is never removed.
        let file = directory + "/file"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        #expect(throws: StatsServerError.notASocket(path: file)) {
            try StatsServer.start(StatsServer.Configuration(socketPath: file), routes: StatsRoutes { snapshot })
        }
    }

    @Test func listenAddresses() throws {
        #expect(try StatsServer.Configuration.parseListen("127.0.0.1:9477") == ("127.0.0.1", 9477))
        #expect(try StatsServer.Configuration.parseListen("9477") == ("127.0.0.1", 9477))
        #expect(try StatsServer.Configuration.parseListen(":9477") == ("127.0.0.1", 9477))
        #expect(try StatsServer.Configuration.parseListen("[::1]:9477") == ("::1", 9477))
        #expect(throws: StatsServerError.self) { try StatsServer.Configuration.parseListen("::1:9477") }
        #expect(throws: StatsServerError.self) { try StatsServer.Configuration.parseListen("host:99999") }
    }
}

/// A thread-safe tally for the concurrency test.
final class Counter200: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
