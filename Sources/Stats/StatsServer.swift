import LinuxSystem
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import SystemPackage

/// The stats socket: HTTP/1.1 on a Unix domain socket (and optionally TCP for Prometheus),
/// serving `/metrics`, `/stats` and `/healthz` from SwiftNIO's own event loop thread, never
/// from a queue worker. Requests only read counters (relaxed loads), so serving never
/// slows the hot loop.
public final class StatsServer: Sendable {
    /// Where and how to listen.
    public struct Configuration: Sendable {
        /// Unix socket path; nil for none. Its parent directory is created when missing.
        public var socketPath: String?
        /// Group that owns the socket (so its members may connect); nil keeps the process's.
        public var socketGroup: String?
        /// Permission bits of the socket file.
        public var socketMode: UInt32 = 0o660
        /// TCP address (host, port); nil for none. Port 0 picks a free one.
        public var tcp: (host: String, port: Int)?
        /// Connections served at once; more are answered 503 and closed.
        public var maxConnections = 256
        /// Largest request (head and body) accepted; larger ones get 413.
        public var maxRequestBytes = 8192
        /// Time a client has to complete a request (from connecting or from the previous answer).
        public var requestTimeout: TimeAmount = .seconds(5)

        public init(socketPath: String? = nil, socketGroup: String? = nil, tcp: (host: String, port: Int)? = nil) {
            self.socketPath = socketPath
            self.socketGroup = socketGroup
            self.tcp = tcp
        }

        /// Parses "HOST:PORT", "[IPV6]:PORT", or "PORT" (loopback).
        public static func parseListen(_ text: String) throws(StatsServerError) -> (host: String, port: Int) {
            var host = "127.0.0.1"
            var portText = Substring(text)
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                    throw .badListenAddress(text)
                }
                host = String(text[text.index(after: text.startIndex)..<close])
                portText = text[text.index(close, offsetBy: 2)...]
            } else if let colon = text.lastIndex(of: ":") {
                if colon != text.startIndex { host = String(text[..<colon]) }
                portText = text[text.index(after: colon)...]
            }
            guard let port = Int(portText), (0...65535).contains(port), !host.isEmpty,
                !host.contains(":") || text.hasPrefix("[")
            else { throw .badListenAddress(text) }
            return (host, port)
        }
    }

    private let group: MultiThreadedEventLoopGroup
    private let channels: [Channel]
    private let socketPath: String?
    /// The TCP address actually bound ("host:port"), when there is a TCP listener.
    public let tcpAddress: (host: String, port: Int)?
    private let stopped = Atomic<Bool>(false)

    /// Opens the listeners and starts serving. `tick` runs once a second on the event loop
    /// (the run loop uses it to notice set publications).
    public static func start(
        _ configuration: Configuration,
        routes: StatsRoutes,
        tick: (@Sendable () -> Void)? = nil
    ) throws(StatsServerError) -> StatsServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [Channel] = []
        func fail(_ error: StatsServerError) -> StatsServerError {
            for channel in channels { try? channel.close().wait() }
            try? group.syncShutdownGracefully()
            return error
        }
        let bootstrap = Self.bootstrap(group: group, configuration: configuration, routes: routes)
        if let path = configuration.socketPath {
            do throws(StatsServerError) {
                try Self.prepareSocketPath(path)
            } catch {
                throw fail(error)
            }
            do {
                channels.append(try bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false).wait())
            } catch {
                throw fail(.bind(address: path, reason: "\(error)"))
            }
            do throws(StatsServerError) {
                try Self.setPermissions(path, mode: configuration.socketMode, group: configuration.socketGroup)
            } catch {
                try? FileSystem.remove(path)
                throw fail(error)
            }
        }
        var tcpAddress: (host: String, port: Int)?
        if let tcp = configuration.tcp {
            do {
                let channel = try bootstrap.bind(host: tcp.host, port: tcp.port).wait()
                channels.append(channel)
                tcpAddress = (tcp.host, channel.localAddress?.port ?? tcp.port)
            } catch {
                if let path = configuration.socketPath { try? FileSystem.remove(path) }
                throw fail(.bind(address: "\(tcp.host):\(tcp.port)", reason: "\(error)"))
            }
        }
        if let tick {
            _ = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in tick() }
        }
        return StatsServer(
            group: group,
            channels: channels,
            socketPath: configuration.socketPath,
            tcpAddress: tcpAddress
        )
    }

    /// The listeners' bootstrap: connections past `maxConnections` get a busy answer, the
    /// others the request guard, HTTP/1 and the routes.
    private static func bootstrap(
        group: MultiThreadedEventLoopGroup,
        configuration: Configuration,
        routes: StatsRoutes
    ) -> ServerBootstrap {
        let counter = ConnectionCounter(limit: configuration.maxConnections)
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let admitted = counter.enter()
                    channel.closeFuture.whenComplete { _ in counter.leave() }
                    let pipeline = channel.pipeline.syncOperations
                    guard admitted else {
                        try pipeline.addHandler(StatsBusyHandler())
                        return
                    }
                    try pipeline.addHandler(
                        StatsRequestGuard(
                            maxRequestBytes: configuration.maxRequestBytes,
                            timeout: configuration.requestTimeout
                        )
                    )
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(StatsHTTPHandler(routes: routes))
                }
            }
    }

    private init(
        group: MultiThreadedEventLoopGroup,
        channels: [Channel],
        socketPath: String?,
        tcpAddress: (host: String, port: Int)?
    ) {
        self.group = group
        self.channels = channels
        self.socketPath = socketPath
        self.tcpAddress = tcpAddress
    }

    /// Runs `body` once on each of the server's event loop threads and waits for it. The run
    /// command lowers those threads' privileges with it: Linux keeps capabilities per thread.
    public func runOnEachServerThread(_ body: @escaping @Sendable () throws -> Void) throws {
        for loop in group.makeIterator() { try loop.submit(body).wait() }
    }

    /// Stops listening, closes every connection, removes the socket file. Idempotent.
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        for channel in channels { try? channel.close().wait() }
        if let socketPath { try? FileSystem.remove(socketPath) }
        try? group.syncShutdownGracefully()
    }

    /// Creates the parent directory when missing; removes a stale socket file (one nobody
    /// listens on); refuses when someone listens or when the path is not a socket.
    static func prepareSocketPath(_ path: String) throws(StatsServerError) {
        let parent = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !parent.isEmpty, let failure = FileSystem.makeDirectories(parent) {
            throw .system(call: "mkdir \(failure.path)", path: path, errno: failure.error)
        }
        let info: Stat
        do {
            info = try FilePath(path).stat(followTargetSymlink: false)
        } catch  where error == .noSuchFileOrDirectory {
            return
        } catch {
            throw .system(call: "lstat", path: path, errno: error)
        }
        guard info.type == .socket else { throw .notASocket(path: path) }
        if isListening(path) { throw .socketInUse(path: path) }
        do {
            try FileSystem.removeIfPresent(path)
        } catch {
            throw .system(call: "unlink", path: path, errno: error)
        }
    }

    /// Whether a process accepts connections on the Unix socket at `path`.
    public static func isListening(_ path: String) -> Bool {
        (try? UnixSocketAddress(path))?.hasListener ?? false
    }

    private static func setPermissions(_ path: String, mode: UInt32, group: String?) throws(StatsServerError) {
        if let group {
            let id: UInt32?
            do {
                id = try FileSystem.groupID(named: group)
            } catch {
                throw .system(call: "getgrnam", path: path, errno: error)
            }
            guard let id else { throw .unknownGroup(group) }
            do {
                try FileSystem.setGroup(path, groupID: id)
            } catch {
                throw .system(call: "chown", path: path, errno: error)
            }
        }
        do {
            try FileSystem.setPermissions(path, FilePermissions(rawValue: mode))
        } catch {
            throw .system(call: "chmod", path: path, errno: error)
        }
    }
}

/// Counts open connections against a limit, from any thread.
final class ConnectionCounter: Sendable {
    private let open = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection; false when it is over the limit (it is counted anyway and
    /// must `leave` when closed, like every other).
    func enter() -> Bool {
        open.wrappingAdd(1, ordering: .relaxed).newValue <= limit
    }

    func leave() {
        open.wrappingSubtract(1, ordering: .relaxed)
    }

    var count: Int { open.load(ordering: .relaxed) }
}
