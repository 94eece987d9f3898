import BGPFeed
import ExitSet
import LinuxSystem
import ListSources
import Logging
import ServiceLifecycle
import Stats

/// `exitblock bgp` as a daemon: the start steps (allowlist, refresher, lists, the first update,
/// stats server; each undone in reverse on every way out), then the services: the refresher's
/// loop, the retries of a failed speaker, the signals. None in dry-run.
public final class BGPDaemon: Sendable {
    public let configuration: BGPDaemonConfiguration

    public init(configuration: BGPDaemonConfiguration) {
        self.configuration = configuration
    }

    /// Runs until SIGTERM, SIGINT or the end of ExaBGP's pipe (in dry-run: until the first
    /// update is printed). Returns false when the dry run's update was refused.
    public func run() throws(DaemonError) -> Bool {
        CurrentProcess.ignoreBrokenPipe()
        // Blocked in every thread before any starts: SignalService takes them.
        SignalService.blockSignals()
        var refusedInDryRun = false
        try DaemonLifecycle(logger: Logger(label: "exitblock.lifecycle")).run { sequence throws(DaemonError) in
            try start(sequence) { refusedInDryRun = true }
        }
        return !refusedInDryRun
    }

    private func start(
        _ sequence: StartSequence,
        refusedInDryRun: () -> Void
    ) throws(DaemonError) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let feed = configuration.feed
        let allowlist = try sequence.loadAllowlist(feed.allows)
        if !allowlist.parts.isEmpty { Output.message(allowlist.summary) }
        let recorder = StatsRecorder()
        let (refresher, set) = try sequence.startSources(configuration.refresh, recorder: recorder)
        let runtime = BGPRuntime(configuration: feed, set: set, allowlist: allowlist.set, reporter: recorder)
        let first = runtime.start()
        if feed.dryRun {
            if case .refused = first { refusedInDryRun() }
            return []
        }
        try sequence.step("stats server", undo: { $0?.stop() }) { () throws(DaemonError) -> StatsServer? in
            do throws(StatsServerError) { return try startStats(runtime, recorder) } catch { throw .stats(error) }
        }
        if feed.speaker == .exabgp { ExaBGPWatcher.start() }
        Output.message(
            "ready: feeding \(feed.speaker.rawValue) (\(feed.settings.style.rawValue)); "
                + "\(runtime.feed.figures.routes) routes in force "
                + "from \(set.count) entries of \(configuration.refresh.sources.count) list(s)"
        )
        return services(runtime, refresher: refresher)
    }

    private func services(
        _ runtime: BGPRuntime,
        refresher: SourceRefresher
    ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let refreshing = ListRefreshService(refresher: refresher, publish: runtime.publish, reloaded: {})
        let retrying = ClosureService {
            try? await cancelWhenGracefulShutdown { try await runtime.retry() }
        }
        let signals = SignalService(
            reload: {
                runtime.reloadAllowlist()
                refresher.requestReload()
            },
            stop: { signal in
                Output.message("signal \(signal): stopping; the routes in force stay with the speaker")
            }
        )
        return [
            .init(service: refreshing), .init(service: retrying),
            .init(service: signals, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
    }

    private func startStats(_ runtime: BGPRuntime, _ recorder: StatsRecorder) throws(StatsServerError) -> StatsServer? {
        guard let server = configuration.stats.servable(checkSocket: configuration.statsSocketIsDefault) else {
            return nil
        }
        let input = runtime.input
        let feed = runtime.feed
        let routes = StatsRoutes {
            MetricsSnapshot.take(
                bgp: feed.figures,
                set: input.set,
                setVersion: input.version,
                recorder: recorder,
                allowlist: input.allowlist
            )
        }
        return try StatsServer.startAnnounced(server, routes: routes) {
            recorder.observe(setVersion: input.version)
        }
    }
}
