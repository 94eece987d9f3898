import ArgumentParser
import BGPFeed
import Engine
import ExitSet
import LinuxSystem
import ListSources
import Logging
import ServiceLifecycle
import Stats
import Synchronization
import SystemPackage

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

struct BGPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bgp",
        abstract: "Feed the guarded exit set to BGP speakers (ExaBGP or BIRD 2) as FlowSpec or RTBH routes.",
        discussion: """
            Loads the lists like `run` (same sources, formats, guards, refresh, disk cache and \
            allowlist), turns the set into routes (allowlisted addresses cut out, prefixes \
            aggregated unless --no-aggregate, at most --max-routes) and keeps a BGP speaker's \
            routes equal to them: with --speaker exabgp it is ExaBGP's API process and writes \
            `announce`/`withdraw` commands on stdout; with --speaker bird it writes --bird-include \
            (static protocols exitblock4 and exitblock6) atomically and runs `birdc -s SOCKET \
            configure`. Each refresh announces only the new routes and withdraws only the removed \
            ones. A refused list or route set changes nothing: the routes in force stay. At start \
            the set comes from the disk cache (URL lists) before the first fetch, and the routes \
            a previous run announced but the set no longer holds are withdrawn. SIGHUP reloads \
            the lists and the allowlist. --dry-run prints what would be announced and exits.
            """
    )

    @OptionGroup(title: "List sources")
    var sourceOptions: SourceOptions

    @Option(
        name: .customLong("allow"),
        help: ArgumentHelp(
            "An address or prefix, or a list file, never announced (cut out of listed prefixes); repeatable.",
            valueName: "address|path"
        )
    )
    var allows: [String] = []

    @Option(help: "exabgp: be ExaBGP's API process (commands on stdout); bird: write an include file and reload BIRD.")
    var speaker: BGPSpeakerKind = .exabgp

    @Option(
        help: ArgumentHelp(
            "rtbh: routes with a discard next hop and the BLACKHOLE community (RFC 5635); "
                + "flowspec: match source, then discard (RFC 8955/8956).",
            valueName: "rtbh|flowspec"
        )
    )
    var style: RouteStyle = .rtbh

    @Option(
        help: ArgumentHelp("Next hop of IPv4 RTBH routes (a discard address on the routers).", valueName: "address")
    )
    var nextHopIpv4: String = "192.0.2.1"

    @Option(help: ArgumentHelp("Next hop of IPv6 RTBH routes.", valueName: "address"))
    var nextHopIpv6: String = "100::1"

    @Option(
        name: .customLong("community"),
        help: ArgumentHelp("A standard community on every RTBH route (\"65535:666\"); repeatable.", valueName: "a:b")
    )
    var communities: [String] = ["65535:666"]

    @Flag(help: "Drop every community (no --community).")
    var noCommunity = false

    @Flag(inversion: .prefixedNo, help: "Merge adjacent and nested prefixes into fewer routes (same coverage).")
    var aggregate = true

    @Option(help: ArgumentHelp("Refuse a set that needs more routes than this (0: no limit).", valueName: "n"))
    var maxRoutes: Int = 10000

    @Option(help: ArgumentHelp("The include file written for --speaker bird.", valueName: "path"))
    var birdInclude: String = "/var/lib/exitblock/bird-routes.conf"

    @Option(help: ArgumentHelp("BIRD's control socket.", valueName: "path"))
    var birdSocket: String = "/run/bird/bird.ctl"

    @Option(help: ArgumentHelp("BIRD's client.", valueName: "path"))
    var birdc: String = "/usr/sbin/birdc"

    @Option(
        help: ArgumentHelp(
            "FlowSpec in the BIRD include file: the flow4 and flow6 tables the routes go to.",
            valueName: "t4,t6"
        )
    )
    var birdFlowTables: String?

    @Flag(help: "Print what would be announced (in the speaker's form) without speaking to anything, then exit.")
    var dryRun = false

    @Option(
        help: ArgumentHelp(
            "Unix socket serving /metrics, /stats and /healthz (default \(StatsClient.defaultSocket) "
                + "when free).",
            valueName: "path"
        )
    )
    var statsSocket: String?

    @Flag(help: "Do not open the stats socket.")
    var noStatsSocket = false

    @OptionGroup var configFile: ConfigFileOption

    @Option(help: ArgumentHelp("Also serve the stats over TCP (\"127.0.0.1:9478\").", valueName: "host:port"))
    var metricsListen: String?

    func validate() throws {
        guard maxRoutes >= 0 else { throw ValidationError("--max-routes must be 0 or more") }
        _ = try routeSettings()
        _ = try flowTables()
        if let metricsListen {
            do { _ = try StatsServer.Configuration.parseListen(metricsListen) } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    func routeSettings() throws(ValidationError) -> RouteSettings {
        guard let hop4 = IPAddress(nextHopIpv4), case .v4 = hop4 else {
            throw ValidationError("--next-hop-ipv4: \"\(nextHopIpv4)\" is not an IPv4 address")
        }
        guard let hop6 = IPAddress(nextHopIpv6), case .v6 = hop6 else {
            throw ValidationError("--next-hop-ipv6: \"\(nextHopIpv6)\" is not an IPv6 address")
        }
        var parsed: [Community] = []
        for text in noCommunity ? [] : communities {
            guard let community = Community(text) else {
                throw ValidationError(
                    "--community: \"\(text)\" is not a community (two numbers 0-65535, \"65535:666\")"
                )
            }
            parsed.append(community)
        }
        return RouteSettings(
            style: style,
            nextHopIPv4: hop4,
            nextHopIPv6: hop6,
            communities: parsed,
            aggregate: aggregate
        )
    }

    func flowTables() throws(ValidationError) -> (String, String)? {
        guard let birdFlowTables else { return nil }
        let names = birdFlowTables.split(separator: ",").map(String.init)
        let valid = names.allSatisfy { name in
            !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        }
        guard names.count == 2, valid else {
            throw ValidationError("--bird-flow-tables: give two table names, \"flow4tab,flow6tab\"")
        }
        return (names[0], names[1])
    }

    func run() throws {
        CurrentProcess.ignoreBrokenPipe()
        // Blocked in every thread before any starts: SignalService takes them.
        SignalService.blockSignals()
        sourceOptions.logLevel.bootstrap()
        let settings = try routeSettings()
        let birdConfig = BIRDStaticConfig(settings: settings, flowTables: try flowTables())
        var refusedInDryRun = false
        do {
            try DaemonLifecycle(logger: Logger(label: "exitblock.lifecycle")).run { sequence throws(DaemonError) in
                try start(sequence, settings: settings, birdConfig: birdConfig) { refusedInDryRun = true }
            }
        } catch {
            Output.error("\(error)")
            throw ExitCode(error.exitCode)
        }
        if refusedInDryRun { throw ExitCode(Status.failure) }
    }

    /// The start steps (see Daemon for `run`'s): allowlist, refresher (undo: its HTTP client
    /// closed), lists, the first update, stats server (undo: stop); then the services: the
    /// refresher's loop, the retries of a failed speaker, the signals. None in dry-run.
    private func start(
        _ sequence: StartSequence,
        settings: RouteSettings,
        birdConfig: BIRDStaticConfig,
        refusedInDryRun: () -> Void
    ) throws(DaemonError) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let allowlist = try sequence.step("allowlist") { () throws(DaemonError) -> Allowlist in
            do throws(ListLoadError) { return try Allowlist.load(allows) } catch { throw .allowlist(error) }
        }
        if !allowlist.parts.isEmpty { Output.message(allowlist.summary) }
        let feed = RouteFeed(
            planner: RoutePlanner(settings: settings, maximumRoutes: maxRoutes),
            speaker: makeSpeaker(settings: settings, birdConfig: birdConfig),
            ledger: dryRun || sourceOptions.noCache
                ? nil : RouteLedger(path: sourceOptions.stateDirectory + "/bgp-\(speaker.rawValue).routes")
        )
        let recorder = StatsRecorder()
        let (refresher, set) = try sequence.startSources(sourceOptions.configuration(), recorder: recorder)
        let current = CurrentInput(set: set, allowlist: allowlist.set)
        let first = feed.update(exits: set, allowlist: allowlist.set)
        Self.report(first, feed, start: true, dryRun: dryRun)
        if dryRun {
            if case .refused = first { refusedInDryRun() }
            return []
        }
        try sequence.step("stats server", undo: { $0?.stop() }) { () throws(DaemonError) -> StatsServer? in
            do throws(StatsServerError) { return try startStats(feed, current, recorder) } catch { throw .stats(error) }
        }
        if speaker == .exabgp { Self.watchExaBGP() }
        Output.message(
            "ready: feeding \(speaker.rawValue) (\(style.rawValue)); \(feed.figures.routes) routes in force "
                + "from \(set.count) entries of \(sourceOptions.lists.count) list(s)"
        )
        let refreshing = ListRefreshService(
            refresher: refresher,
            publish: { set in
                current.store(set: set)
                Self.report(feed.update(exits: set, allowlist: current.allowlist), feed, start: false, dryRun: false)
                return 0
            },
            reloaded: {}
        )
        // A speaker that failed (BIRD down, say) gets the set again every few seconds.
        let retrying = ClosureService {
            try? await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(5))
                    guard feed.needsRetry else { continue }
                    Self.report(
                        feed.update(exits: current.set, allowlist: current.allowlist),
                        feed,
                        start: false,
                        dryRun: false
                    )
                }
            }
        }
        let signals = SignalService(
            reload: {
                reloadAllowlist(current, feed, recorder)
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

    private func makeSpeaker(settings: RouteSettings, birdConfig: BIRDStaticConfig) -> any RouteSpeaker {
        guard dryRun else {
            switch speaker {
            case .exabgp:
                return ExaBGPSpeaker(settings: settings)
            case .bird:
                return BIRDSpeaker(config: birdConfig, includePath: birdInclude, socketPath: birdSocket, birdc: birdc)
            }
        }
        let commands = ExaBGPCommands(settings: settings)
        let kind = speaker
        return DryRunSpeaker(
            render: { delta, routes, initial in
                switch kind {
                case .exabgp:
                    return (initial ? routes.map(commands.announce) : commands.lines(for: delta)).joined(
                        separator: "\n"
                    )
                case .bird:
                    return birdConfig.text(for: routes).trimming(while: \.isNewline)
                }
            },
            print: { Output.line($0) }
        )
    }

    /// Logs what an update did.
    private static func report(_ outcome: RouteFeed.Outcome, _ feed: RouteFeed, start: Bool, dryRun: Bool) {
        let inForce = RouteCount(feed.routes)
        switch outcome {
        case .applied(let delta):
            let count = start ? inForce.total : delta.announce.count
            Output.message(
                "bgp: \(dryRun ? "would announce" : "announced") \(count), "
                    + "\(dryRun ? "would withdraw" : "withdrew") \(delta.withdraw.count); \(inForce) routes in force"
            )
        case .unchanged:
            break
        case .refused(let error):
            Output.error("bgp: update refused (\(error.reason)): \(error); \(inForce) routes stay in force")
        }
    }

    /// ExaBGP writes acknowledgements to the process's stdin: read and drop them, and stop when
    /// ExaBGP closes the pipe (it stopped, or restarts the process).
    private static func watchExaBGP() {
        SystemThread.start(name: "exabgp-stdin") {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                // swift-system retries EINTR; an error or the end of input ends the loop.
                let count =
                    (try? buffer.withUnsafeMutableBytes { try FileDescriptor.standardInput.read(into: $0) }) ?? 0
                if count <= 0 { break }
            }
            Output.message("stdin closed (ExaBGP went away): stopping")
            CurrentProcess.requestTermination()
        }
    }

    private func startStats(_ feed: RouteFeed, _ current: CurrentInput, _ recorder: StatsRecorder)
        throws(StatsServerError) -> StatsServer?
    {
        var wanted = StatsServer.Configuration(
            socketPath: noStatsSocket ? nil : statsSocket ?? StatsClient.defaultSocket
        )
        if let metricsListen { wanted.tcp = try StatsServer.Configuration.parseListen(metricsListen) }
        guard let server = wanted.servable(checkSocket: statsSocket == nil) else { return nil }
        let routes = StatsRoutes {
            MetricsSnapshot.take(
                bgp: feed.figures,
                set: current.set,
                setVersion: current.version,
                recorder: recorder,
                allowlist: current.allowlist
            )
        }
        return try StatsServer.startAnnounced(server, routes: routes) {
            recorder.observe(setVersion: current.version)
        }
    }

    /// SIGHUP: reload the allowlist files and put the routes in step; on failure the
    /// allowlist in force stays.
    private func reloadAllowlist(_ current: CurrentInput, _ feed: RouteFeed, _ recorder: StatsRecorder) {
        guard !allows.isEmpty else { return }
        do {
            let allowlist = try Allowlist.load(allows)
            current.store(allowlist: allowlist.set)
            Output.message("reloaded " + allowlist.summary)
            Self.report(feed.update(exits: current.set, allowlist: allowlist.set), feed, start: false, dryRun: dryRun)
        } catch {
            recorder.recordRefusal(path: nil, reason: "allowlist_" + error.reason, error: "\(error)")
            Output.error("allowlist reload refused, the previous allowlist stays in force: \(error)")
        }
    }
}

/// The set and allowlist last handed to the feed, shared by the refresher, the retry loop, the
/// SIGHUP handler and the stats server.
final class CurrentInput: Sendable {
    private let state: Mutex<(set: ExitSet, allowlist: ExitSet, version: UInt64)>

    init(set: ExitSet, allowlist: ExitSet) {
        state = Mutex((set, allowlist, 0))
    }

    var set: ExitSet { state.withLock { $0.set } }
    var allowlist: ExitSet { state.withLock { $0.allowlist } }
    var version: UInt64 { state.withLock { $0.version } }

    func store(set: ExitSet) {
        state.withLock {
            $0.set = set
            $0.version += 1
        }
    }

    func store(allowlist: ExitSet) {
        state.withLock { $0.allowlist = allowlist }
    }
}
