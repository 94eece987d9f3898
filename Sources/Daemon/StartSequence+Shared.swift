import ExitSet
import LinuxSystem
import ListSources
import Logging
import Stats

extension StartSequence {
    /// The list steps `run` and `bgp` share: the refresher (undo: its HTTP client closed),
    /// then the first load of every list, which must succeed for the start to go on.
    func startSources(
        _ configuration: RefreshConfiguration,
        recorder: StatsRecorder
    ) throws(DaemonError) -> (refresher: SourceRefresher, set: ExitSet) {
        let refresher = step(
            "refresher",
            undo: { refresher in Blocking.wait { () async -> Void in await refresher.shutdown() } }
        ) {
            SourceRefresher(
                configuration: configuration,
                recorder: recorder,
                logger: Logger(label: "exitblock.sources"),
                version: MetricsSnapshot.BuildInfo.version
            )
        }
        let set = try step("lists") { () throws(DaemonError) -> ExitSet in
            do throws(SourceStartError) {
                return try Blocking.wait { () async throws(SourceStartError) -> ExitSet in
                    try await refresher.loadInitial()
                }
            } catch {
                throw .lists(error)
            }
        }
        return (refresher, set)
    }

    /// The allowlist step `run` and `bgp` share: every `--allow` value read; a file that
    /// cannot be used stops the start.
    func loadAllowlist(_ values: [String]) throws(DaemonError) -> Allowlist {
        try step("allowlist") { () throws(DaemonError) -> Allowlist in
            do throws(ListLoadError) { return try Allowlist.load(values) } catch { throw .allowlist(error) }
        }
    }
}

extension StatsServer.Configuration {
    /// The configuration without its unix socket when `checkSocket` and another process
    /// already serves that path (said on the output); nil when nothing is left to serve.
    func servable(checkSocket: Bool) -> StatsServer.Configuration? {
        var server = self
        if checkSocket, let path = server.socketPath, StatsServer.isListening(path) {
            Output.message("stats: \(path) is served by another process; running without a stats socket")
            server.socketPath = nil
        }
        return server.socketPath != nil || server.tcp != nil ? server : nil
    }
}

extension StatsServer {
    /// Starts the stats server and says where it serves.
    static func startAnnounced(
        _ configuration: Configuration,
        routes: StatsRoutes,
        tick: (@Sendable () -> Void)? = nil
    ) throws(StatsServerError) -> StatsServer {
        let started = try start(configuration, routes: routes, tick: tick)
        var places: [String] = []
        if let path = configuration.socketPath { places.append(path) }
        if let tcp = started.tcpAddress { places.append("tcp \(tcp.host):\(tcp.port)") }
        Output.message("stats: serving /metrics, /stats, /healthz on \(places.joined(separator: " and "))")
        return started
    }
}
