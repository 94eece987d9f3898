import ArgumentParser
import ExitBlock
import ExitSet
import LinuxSystem
import ListSources
import Logging
import NetfilterQueue
import Rules
import Stats

#if canImport(Glibc)
    import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Bind NFQUEUE(s) and drop packets from listed addresses until SIGINT or SIGTERM.",
        discussion: """
            Loads the lists, binds every queue (for IPv4 and IPv6 alike), prints a line with \
            "ready" on stderr, then answers every queued packet: DROP when its source address \
            is listed, ACCEPT otherwise, and the --unparsable-verdict for packets whose header \
            cannot be read. A list is a file (re-read when it changes) or an http(s) URL \
            (fetched every --refresh-interval); SIGHUP reloads every list at once. A new version \
            that fails to load or fails the guards is refused and the previous one stays in \
            force; the last good version of each list is kept in --state-directory and used at \
            start when the list cannot be had.             --match destination or both looks up the destination address \
            (too); --allow exempts addresses (a packet from or to one is always accepted); \
            --reject answers listed packets NF_ACCEPT with --reject-mark set, for the REJECT rule \
            of `rules install --reject` in the filter table; \
            --dry-run accepts everything and counts what would have been dropped; --exit-policy \
            lets through TCP and UDP packets of listed exits to ports their published exit policy \
            does not carry (counted as outside_policy); --format relays reads consensus and Onionoo \
            lists as every relay's ORPort and DirPort endpoints (relay mode: with --match \
            destination, customers' TCP connections to those ports are blocked, nothing else \
            on those hosts). SIGHUP \
            also reloads the allowlist files. On SIGINT or SIGTERM it answers the packets it holds, \
            unbinds, and prints its counters on stdout, one line per queue and a total:

              queue 0 packets=12 accepted=8 dropped=4 unparsable=0 ipv4=6 ipv6=6 ipv4_dropped=2 ipv6_dropped=2 \
            allowlisted=0 rejected=0 would_drop=0 outside_policy=0
              total packets=12 accepted=8 dropped=4 unparsable=0 ipv4=6 ipv6=6 ipv4_dropped=2 ipv6_dropped=2 \
            allowlisted=0 rejected=0 would_drop=0 outside_policy=0

            Needs root or CAP_NET_ADMIN. Refuses to start when a queue is taken by another \
            process, or a list file has no valid entry and no cached version.
            """
    )

    @Option(
        name: .customLong("queue"),
        help: ArgumentHelp(
            "NFQUEUE number or range (\"0\", \"0-3\"); repeatable. One thread per queue.",
            valueName: "n"
        )
    )
    var queues: [NumberRange]

    @Option(
        name: .customLong("list"),
        help: ArgumentHelp(
            "A list of exit addresses or prefixes: a file path or an http(s) URL; repeatable, the set is the union.",
            valueName: "path|url"
        )
    )
    var lists: [String]

    @OptionGroup(title: "List sources")
    var sourceOptions: SourceOptions

    @Option(help: "List format; detected from the content when not given.")
    var format: ListFormat?

    @Option(
        help: ArgumentHelp(
            "packet: judge every queued packet; flow: the rules queue only each connection's first packet "
                + "(ct state NEW), and when the set grows the conntrack entries of newly listed addresses are deleted.",
            valueName: "packet|flow"
        )
    )
    var mode: FilterMode = .packet

    @Option(help: "Which address is looked up in the set: source, destination or both.")
    var match: MatchDirection = .source

    @Option(
        name: .customLong("allow"),
        help: ArgumentHelp(
            "An address or prefix, or a list file (any format), whose traffic is always accepted (from or to it); "
                + "repeatable, checked before the lists.",
            valueName: "address|path"
        )
    )
    var allows: [String] = []

    @Flag(help: "Decide and count, but accept every packet; the counters say what would have been dropped.")
    var dryRun = false

    @Flag(
        help: ArgumentHelp(
            "Count a TCP or UDP packet of a listed exit only when the exit's published port policy covers its port "
                + "(destination port; source port with --match destination); lists without policies cover every port."
        )
    )
    var exitPolicy = false

    @Flag(help: "Answer listed packets ACCEPT with --reject-mark set instead of DROP, for a REJECT rule to answer.")
    var reject = false

    @Option(
        help: ArgumentHelp(
            "The mark --reject sets, VALUE[/MASK] (decimal or 0x hex, not 0; default 0x4542; with a mask, the "
                + "packet's other mark bits are kept); a rule REJECTs packets carrying it."
        )
    )
    var rejectMark: MarkArgument?

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Add the addresses of dropped packets to the kernel's drop set, which drops their next packets itself "
                + "(used only when `rules install` put the cache's rules and sets in place; never in dry-run)."
        )
    )
    var dropCache = true

    @Option(
        help: ArgumentHelp(
            "Re-create the drop-cache sets with this timeout (90s, 5m) at start; default: the one `rules install` set.",
            valueName: "duration"
        )
    )
    var dropCacheTimeout: DurationArgument?

    @Flag(
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Add the addresses of packets accepted because they are not listed to the kernel's accept set, which "
                + "accepts their next packets itself (packet mode, --match source or destination; used only when "
                + "`rules install` put the cache's rules and sets in place; never in dry-run)."
        )
    )
    var acceptCache = true

    @Option(
        help: ArgumentHelp(
            "Re-create the accept-cache sets with this timeout (90s, 5m) at start; default: the one `rules install` "
                + "set.",
            valueName: "duration"
        )
    )
    var acceptCacheTimeout: DurationArgument?

    @Option(help: "Re-create the accept-cache sets with this size (maxelem) at start; default: the installed one.")
    var acceptCacheSize: UInt32?

    @Option(help: "Verdict for packets whose IP header cannot be read: accept or drop.")
    var unparsableVerdict: VerdictArgument = .accept

    @Option(help: "Bytes of each packet copied to userspace (the addresses need 40).")
    var copyRange: Int = 64

    @Option(help: "Packets the kernel holds per queue while waiting for verdicts.")
    var queueMaxLength: UInt32 = 4096

    @Option(help: "Packets taken per receive call and answered with one send.")
    var burstSize: Int = 64

    @Option(help: "Socket receive buffer in bytes (SO_RCVBUFFORCE).")
    var receiveBuffer: Int = 8 << 20

    @Flag(inversion: .prefixedNo, help: "Take GSO super-packets whole (NFQA_CFG_F_GSO).")
    var gso = true

    @Flag(help: "When a queue is full, let the kernel accept new packets instead of dropping them.")
    var failOpen = false

    @Option(
        name: .customLong("cpu"),
        help: ArgumentHelp(
            "Pin worker threads to these CPUs, in queue order (\"1\", \"0-3\"); repeatable.",
            valueName: "n"
        )
    )
    var cpus: [NumberRange] = []

    @Option(
        help: ArgumentHelp(
            "Unix socket serving /metrics, /stats and /healthz over HTTP/1.1 (default \(StatsClient.defaultSocket); "
                + "when the default is taken by another exitblock, this one runs without it).",
            valueName: "path"
        )
    )
    var statsSocket: String?

    @Option(
        help: ArgumentHelp("Group owning the stats socket (mode 0660): its members may read it.", valueName: "name")
    )
    var statsSocketGroup: String?

    @Flag(help: "Do not open the stats socket.")
    var noStatsSocket = false

    @Option(
        help: ArgumentHelp(
            "Also serve the stats over TCP for Prometheus (\"127.0.0.1:9477\"; a bare port means loopback).",
            valueName: "host:port"
        )
    )
    var metricsListen: String?

    @OptionGroup(title: "Service") var service: ServiceOptions

    func validate() throws {
        guard !queues.isEmpty else { throw ValidationError("give at least one --queue") }
        guard !lists.isEmpty else { throw ValidationError("give at least one --list") }
        if rejectMark != nil && !reject { throw ValidationError("--reject-mark needs --reject") }
        let numbers = queues.flatMap { Array($0.numbers) }
        guard Set(numbers).count == numbers.count else { throw ValidationError("a queue number is given twice") }
        if let metricsListen {
            do { _ = try StatsServer.Configuration.parseListen(metricsListen) } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    func run() throws {
        let signals = SignalWaiter([SIGINT, SIGTERM, SIGHUP])
        sourceOptions.logLevel.bootstrap()
        let hooks: RunService
        do {
            hooks = try RunService(options: service)
        } catch {
            Output.error("\(error); not starting")
            throw ExitCode.failure
        }
        let configuration = engineConfiguration()
        let policy = configuration.policy
        // Bind the queues first; the workers start once the lists are in.
        let engine: Engine
        do {
            engine = try Engine(configuration: configuration, initialSet: .empty) { Output.message($0) }
        } catch {
            Output.error("\(error); not starting")
            throw ExitCode.failure
        }
        let recorder = StatsRecorder()
        let stats: StatsServer?
        do {
            stats = try startStats(engine, recorder)
        } catch {
            Output.error("\(error); not starting")
            throw ExitCode.failure
        }
        // Queues bound, stats socket open: lower the privileges before any other thread starts
        // (the list fetcher's, the concurrency pool's and the workers inherit this thread's).
        do {
            try hooks.dropPrivileges(stats: stats)
        } catch {
            Output.error("cannot lower privileges: \(error); not starting")
            stats?.stop()
            throw ExitCode.failure
        }
        // After lowering privileges: the programs it runs, and their threads, get no more.
        let dropCache = startDropCache(engine)
        let allowlist: Allowlist
        do {
            allowlist = try Allowlist.load(allows)
        } catch {
            Output.error("allowlist: \(error); not starting")
            stats?.stop()
            throw ExitCode(Status.failure)
        }
        reportAllowlist(allowlist)
        let refresher = SourceRefresher(
            configuration: sourceOptions.configuration(lists: lists, format: format),
            recorder: recorder,
            logger: Logger(label: "exitblock.sources")
        )
        let set: ExitSet
        do {
            set = try Blocking.wait { () async throws(SourceStartError) -> ExitSet in
                try await refresher.loadInitial()
            }
        } catch {
            Output.error("\(error); not starting")
            Blocking.wait { () async -> Void in await refresher.shutdown() }
            stats?.stop()
            throw ExitCode(Status.failure)
        }
        if let invalidator = engine.invalidator {
            if let problem = invalidator.probe() {
                Output.error("flow mode: \(problem); established flows of newly listed addresses will not be cut")
            } else {
                Output.message("flow mode: conntrack entries of newly listed addresses are deleted on each publish")
            }
        }
        engine.start(initialSet: set, allowlist: allowlist.set)
        Output.message(
            "ready: queue \(queueNumbers) bound (IPv4 and IPv6); "
                + "\(set.count) entries (\(set.ipv4Count) IPv4, \(set.ipv6Count) IPv6) from \(lists.count) list(s); "
                + "\(policy.summary); allowlist \(allowlist.set.count) entries"
        )
        hooks.ready(status: "judging queue(s) \(queueNumbers); \(set.count) entries", engine: engine)
        let dryRunLog = dryRun ? DryRunLog(engine: engine, interval: 60) : nil

        let reloaded = hooks.reloadedNotifier()
        let queueNumbers = queueNumbers
        let refreshing = Task.detached {
            await refresher.run(publish: { engine.publish($0) }) {
                reloaded("judging queue(s) \(queueNumbers); \(engine.exitSet.count) entries")
            }
        }
        while true {
            let signal = signals.wait()
            if signal == SIGHUP {
                hooks.reloading()
                reloadAllowlist(engine, recorder)
                refresher.requestReload()
                continue
            }
            Output.message("signal \(signal): stopping")
            hooks.stopping()
            break
        }
        refresher.requestStop()
        refreshing.cancel()
        Blocking.wait { () async -> Void in
            await refreshing.value
            await refresher.shutdown()
        }
        stats?.stop()
        dryRunLog?.stop()
        engine.stop()
        dropCache?.stop()
        for (queue, values) in engine.counters() {
            Output.line("queue \(queue) \(values)")
        }
        let total = engine.totalCounters()
        Output.line("total \(total)")
        ModeReport.logFinal(total: total, top: engine.topListed(limit: MetricsSnapshot.topListedLimit), policy: policy)
    }

    /// Looks for the verdict caches' rules and sets and attaches them to `engine` for the
    /// families that have them; nil (every packet judged as usual) when both are off, in
    /// dry-run, with --user (the `ipset` program would run without the capability it needs),
    /// or when `rules install` did not put them in place. The accept cache is used in packet
    /// mode with --match source or destination only, never with exit policies or relay mode.
    private func startDropCache(_ engine: Engine) -> DropCache? {
        let policy = engine.configuration.policy
        var wanted = DropCache.Wanted()
        wanted.drop = dropCache
        wanted.accept = acceptCache && mode == .packet && match != .both
        guard wanted.drop || wanted.accept else { return nil }
        if dryRun {
            Output.message("verdict caches: off (dry-run)")
            return nil
        }
        if policy.judgesPorts {
            Output.message("verdict caches: off (exit policies or relay mode: a cached address would take every port)")
            return nil
        }
        guard service.user == nil else {
            Output.message("verdict caches: off (--user: the ipset program would run without CAP_NET_ADMIN)")
            return nil
        }
        func seconds(_ duration: DurationArgument?) -> UInt32? {
            duration.map { UInt32(min(max($0.seconds.rounded(.up), 1), 2_147_483)) }
        }
        wanted.dropTimeout = seconds(dropCacheTimeout)
        wanted.acceptTimeout = seconds(acceptCacheTimeout)
        wanted.acceptSize = acceptCacheSize.map { max($0, 1) }
        let (cache, reason) = DropCache.probe(wanted) { Output.message($0) }
        guard let cache else {
            Output.message("drop cache: off (\(reason)); `exitblock rules install` puts it in place")
            return nil
        }
        engine.attach(cache)
        let drop = cache.families.map(\.rawValue).joined(separator: " and ")
        var line = cache.families.isEmpty ? "drop cache: off" : "drop cache: on for \(drop)"
        let accept = cache.acceptFamilies.map(\.rawValue).joined(separator: " and ")
        line += cache.acceptFamilies.isEmpty ? "; accept cache: off" : "; accept cache: on for \(accept)"
        if !reason.isEmpty { line += " (\(reason))" }
        Output.message(line)
        cache.startPolling()
        return cache
    }

    /// The engine's settings from the options.
    private func engineConfiguration() -> EngineConfiguration {
        let chosenMark = rejectMark ?? MarkArgument(Policy.defaultRejectMark)
        var template = QueueConfiguration(queue: 0)
        template.copyRange = copyRange
        template.maxLength = queueMaxLength
        template.burstSize = burstSize
        template.receiveBufferBytes = receiveBuffer
        template.gso = gso
        template.failOpen = failOpen
        return EngineConfiguration(
            queues: queues.flatMap { Array($0.numbers) },
            queueTemplate: template,
            policy: Policy(
                unparsableVerdict: unparsableVerdict.verdict,
                match: match,
                action: reject ? .reject(mark: chosenMark.value, mask: chosenMark.mask) : .drop,
                dryRun: dryRun,
                exitPolicy: exitPolicy,
                relayPorts: format == .relays
            ),
            cpus: cpus.flatMap { $0.numbers.map(Int.init) },
            mode: mode,
            matchDirection: match
        )
    }

    private var queueNumbers: String { queues.flatMap { Array($0.numbers) }.map(String.init).joined(separator: ",") }

    /// Opens the stats socket (and the TCP listener when asked); nil when neither is wanted.
    private func startStats(_ engine: Engine, _ recorder: StatsRecorder) throws -> StatsServer? {
        var server = StatsServer.Configuration(
            socketPath: noStatsSocket ? nil : statsSocket ?? StatsClient.defaultSocket,
            socketGroup: statsSocketGroup
        )
        if let metricsListen { server.tcp = try StatsServer.Configuration.parseListen(metricsListen) }
        if statsSocket == nil, let path = server.socketPath, StatsServer.isListening(path) {
            Output.message("stats: \(path) is served by another process; running without a stats socket")
            server.socketPath = nil
        }
        guard server.socketPath != nil || server.tcp != nil else { return nil }
        // The kernel's queue table is readable by root only: opened now, before the privilege
        // drop, and kept open for the stats.
        let kernelTable = KernelQueueTable()
        let routes = StatsRoutes {
            MetricsSnapshot.take(engine: engine, recorder: recorder, kernel: kernelTable.read())
        }
        let started = try StatsServer.start(server, routes: routes) {
            recorder.observe(setVersion: engine.setVersion)
        }
        var places: [String] = []
        if let path = server.socketPath { places.append(path) }
        if let tcp = started.tcpAddress { places.append("tcp \(tcp.host):\(tcp.port)") }
        Output.message("stats: serving /metrics, /stats, /healthz on \(places.joined(separator: " and "))")
        return started
    }

    /// SIGHUP: reload the allowlist files; on any failure the allowlist in force stays.
    private func reloadAllowlist(_ engine: Engine, _ recorder: StatsRecorder) {
        guard !allows.isEmpty else { return }
        do {
            let allowlist = try Allowlist.load(allows)
            let before = engine.allowlist.count
            let pause = engine.publishAllowlist(allowlist.set)
            reportAllowlist(allowlist)
            Output.message(
                "reloaded allowlist: \(before) -> \(allowlist.set.count) entries; grace period \(pause / 1000) us"
            )
        } catch {
            recorder.recordRefusal(path: nil, reason: "allowlist_" + error.reason, error: "\(error)")
            Output.error("allowlist reload refused, the previous allowlist stays in force: \(error)")
        }
    }

    private func reportAllowlist(_ allowlist: Allowlist) {
        guard !allowlist.parts.isEmpty else { return }
        for part in allowlist.parts { part.list?.report(rejectedLimit: 5) }
        Output.message(allowlist.summary)
    }
}

/// `accept` or `drop`, for options that take a verdict.
enum VerdictArgument: String, ExpressibleByArgument, CaseIterable {
    case accept, drop

    var verdict: Verdict { self == .accept ? .accept : .drop }
}
