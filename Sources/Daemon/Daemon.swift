import Engine
import ExitSet
import LinuxSystem
import Logging
import NetfilterQueue
import ServiceLifecycle
import ListSources
import Rules
import Stats

/// `exitblock run` as a daemon: the one place that knows the start and stop order.
///
/// Privileged setup, in order, each step undone in reverse on every path (DaemonLifecycle):
///
/// 1. the service manager (`--user` resolved, $NOTIFY_SOCKET opened);
/// 2. the queues bound (the workers start later, once the lists are in);
/// 3. the stats server (undo: stop, socket removed);
/// 4. the privileges lowered to CAP_NET_ADMIN (every thread that exists by then);
/// 5. the drop cache and its poller (undo: stop, sets emptied, after the workers are gone);
/// 6. the allowlist; 7. the refresher (undo: its HTTP client closed); 8. the lists;
/// 9. the workers (undo: each answers what it holds and unbinds);
/// 10. READY=1 (undo: STOPPING=1); 11. the dry-run log (undo: stop).
///
/// Then the services, in one ServiceGroup until a signal ends it: the refresher's loop,
/// the watchdog pings, and the signals (SIGHUP reloads, SIGTERM and SIGINT shut the group
/// down gracefully). Once all is undone, the counters go to stdout.
public final class Daemon: Sendable {
    public let configuration: DaemonConfiguration

    public init(configuration: DaemonConfiguration) {
        self.configuration = configuration
    }

    /// Runs until SIGTERM or SIGINT and prints the counters. Throws when it could not start
    /// (what was started is undone by then) or a service failed.
    public func run() throws(DaemonError) {
        // Blocked in every thread before any starts: SignalService takes them.
        SignalService.blockSignals()
        let logger = Logger(label: "exitblock.daemon")
        let lifecycle = DaemonLifecycle(logger: Logger(label: "exitblock.lifecycle")) { logger.debug("\($0)") }
        var workers: Engine?
        defer {
            if let workers { Self.printCounters(workers) }
        }
        try lifecycle.run { sequence throws(DaemonError) in
            try start(sequence, workersStarted: { workers = $0 })
        }
    }

    /// The first step: the service manager's hooks (notifications, the privileges to keep:
    /// CAP_NET_RAW too when the rule watch restores through iptables-restore).
    private static func startServiceManager(
        _ sequence: StartSequence,
        _ configuration: DaemonConfiguration
    ) throws(DaemonError) -> RunService {
        try sequence.step("service manager") { () throws(DaemonError) -> RunService in
            do throws(ServiceError) {
                return try RunService(
                    user: configuration.user,
                    restoresRules: configuration.ruleWatch?.restore ?? false
                )
            } catch {
                throw .service(error)
            }
        }
    }

    /// The start steps on `sequence`; returns the services to run.
    private func start(
        _ sequence: StartSequence,
        workersStarted: (Engine) -> Void
    ) throws(DaemonError) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let configuration = configuration
        let hooks = try Self.startServiceManager(sequence, configuration)
        let handover = QueueHandover(
            path: configuration.handoverSocket,
            environment: Self.environment
        )
        // The last undo: the connection a hand-over went over closes once all else is undone.
        sequence.onTearDown("hand-over connection") { handover.claim.release() }
        // Bind the queues first (or take them over); the workers start once the lists are in.
        let engine = try sequence.step("queues") { () throws(DaemonError) -> Engine in
            do throws(NetfilterQueueError) {
                return try Engine(
                    configuration: configuration.engine,
                    initialSet: .empty,
                    log: { Output.message($0) },
                    openQueue: handover.openQueue
                )
            } catch {
                throw .queues(error)
            }
        }
        handover.closeUnusedStored(wanted: configuration.engine.queues)
        let recorder = StatsRecorder()
        let ruleWatch = configuration.ruleWatch.map(Self.ruleWatch)
        // While a running exitblock serves the stats socket, this one opens it once that one is
        // gone (or once it refused the hand-over).
        let statsDeferred = handover.waitsForPeer
        let stats = try startStatsAndLowerPrivileges(
            sequence,
            hooks: hooks,
            (engine, recorder, ruleWatch),
            now: !statsDeferred
        )
        // After lowering privileges: the programs it runs, and their threads, get no more.
        sequence.step("drop cache", undo: { $0?.stop() }) { configuration.verdictCaches.attach(to: engine) }
        let allowlist = try sequence.loadAllowlist(configuration.allows)
        Self.report(allowlist)
        let (refresher, set) = try sequence.startSources(configuration.refresh, recorder: recorder)
        Self.reportFlowMode(engine)
        try startWorkers(sequence, engine, handover, set: set, allowlist: allowlist)
        workersStarted(engine)
        if stats == nil, statsDeferred {
            handover.awaitPreviousExit()
            startLateStats(sequence, (engine, recorder, ruleWatch))
        }
        startHandoverListener(sequence, engine, handover)
        sequence.step("rule watch", undo: { $0?.stop() }) { () -> RuleWatch? in
            ruleWatch?.start()
            return ruleWatch
        }
        announceReady(sequence, hooks: hooks, engine: engine, set: set, allowlist: allowlist)
        return services(hooks: hooks, engine: engine, refresher: refresher, recorder: recorder, claim: handover.claim)
    }

    /// "ready" on the output, READY=1 to the service manager, and the dry-run log.
    private func announceReady(
        _ sequence: StartSequence,
        hooks: RunService,
        engine: Engine,
        set: ExitSet,
        allowlist: Allowlist
    ) {
        let queueNumbers = configuration.queueNumbers
        let policy = configuration.engine.policy
        Output.message(
            "ready: queue \(queueNumbers) bound (IPv4 and IPv6); "
                + "\(set.count) entries (\(set.ipv4Count) IPv4, \(set.ipv6Count) IPv6) from "
                + "\(configuration.refresh.sources.count) list(s); "
                + "\(policy.summary); allowlist \(allowlist.set.count) entries"
        )
        sequence.step("READY=1", undo: { (_: Void) in hooks.stopping() }) {
            hooks.ready(status: "judging queue(s) \(queueNumbers); \(set.count) entries")
        }
        if policy.dryRun {
            sequence.step("dry-run log", undo: { $0.stop() }) { DryRunLog(engine: engine, interval: 60) }
        }
    }

    /// Flow mode: whether conntrack entries can be deleted on each publish.
    private static func reportFlowMode(_ engine: Engine) {
        guard let invalidator = engine.invalidator else { return }
        if let problem = invalidator.probe() {
            Output.error("flow mode: \(problem); established flows of newly listed addresses will not be cut")
        } else {
            Output.message("flow mode: conntrack entries of newly listed addresses are deleted on each publish")
        }
    }

    /// What runs while the daemon runs, in start order (the group stops them in reverse).
    private func services(
        hooks: RunService,
        engine: Engine,
        refresher: SourceRefresher,
        recorder: StatsRecorder,
        claim: HandoverClaim
    ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let reloaded = hooks.reloadedNotifier()
        let queueNumbers = configuration.queueNumbers
        let allows = configuration.allows
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: ListRefreshService(
                    refresher: refresher,
                    publish: { engine.publish($0) },
                    reloaded: { reloaded("judging queue(s) \(queueNumbers); \(engine.exitSet.count) entries") }
                )
            )
        ]
        if let watchdog = hooks.watchdog(engine: engine) { services.append(.init(service: watchdog)) }
        let signals = SignalService(
            reload: {
                hooks.reloading()
                Self.reloadAllowlist(allows, engine, recorder)
                refresher.requestReload()
            },
            stop: { signal in
                Output.message("signal \(signal): stopping")
                hooks.storeQueues(engine, claim: claim)
                hooks.stopping()
            }
        )
        services.append(.init(service: signals, successTerminationBehavior: .gracefullyShutdownGroup))
        return services
    }

    /// Opens the stats socket (and the TCP listener when asked); nil when neither is wanted.
    func startStats(
        _ engine: Engine,
        _ recorder: StatsRecorder,
        _ ruleWatch: RuleWatch?
    ) throws(StatsServerError) -> StatsServer? {
        guard let server = configuration.stats.servable(checkSocket: configuration.statsSocketIsDefault) else {
            return nil
        }
        // The kernel's queue table is readable by root only: opened now, before the privilege
        // drop, and kept open for the stats.
        let kernelTable = KernelQueueTable()
        let snapshot = { @Sendable in
            var snapshot = MetricsSnapshot.take(engine: engine, recorder: recorder, kernel: kernelTable.read())
            snapshot.rules = ruleWatch?.figures
            return snapshot
        }
        let routes = StatsRoutes(
            snapshot: snapshot,
            explain: ExplainRoute(engine: engine, listings: configuration.refresh.listings, snapshot: snapshot)
        )
        return try StatsServer.startAnnounced(server, routes: routes) {
            recorder.observe(setVersion: engine.setVersion)
        }
    }

    /// The rule watch of `configuration`, logging through Output, restoring through the installer.
    private static func ruleWatch(_ configuration: RuleWatch.Configuration) -> RuleWatch {
        RuleWatch(
            configuration: configuration,
            restorer: configuration.restore ? RuleWatch.installerRestorer(for: configuration) : nil,
            log: { Output.message($0) },
            warn: { Output.error($0) }
        )
    }

    /// SIGHUP: reload the allowlist files; on any failure the allowlist in force stays.
    private static func reloadAllowlist(_ allows: [String], _ engine: Engine, _ recorder: StatsRecorder) {
        guard !allows.isEmpty else { return }
        do {
            let allowlist = try Allowlist.load(allows)
            let before = engine.allowlist.count
            let pause = engine.publishAllowlist(allowlist.set)
            report(allowlist)
            Output.message(
                "reloaded allowlist: \(before) -> \(allowlist.set.count) entries; grace period \(pause / 1000) us"
            )
        } catch {
            recorder.recordRefusal(path: nil, reason: "allowlist_" + error.reason, error: "\(error)")
            Output.error("allowlist reload refused, the previous allowlist stays in force: \(error)")
        }
    }

    private static func report(_ allowlist: Allowlist) {
        guard !allowlist.parts.isEmpty else { return }
        for part in allowlist.parts { part.list?.report(rejectedLimit: 5) }
        Output.message(allowlist.summary)
    }

    /// The counters on stdout, one line per queue and a total, and the final mode report.
    private static func printCounters(_ engine: Engine) {
        for (queue, values) in engine.counters() {
            Output.line("queue \(queue) \(values)")
        }
        let total = engine.totalCounters()
        Output.line("total \(total)")
        ModeReport.logFinal(
            total: total,
            top: engine.topListed(limit: MetricsSnapshot.topListedLimit),
            policy: engine.configuration.policy
        )
    }
}
