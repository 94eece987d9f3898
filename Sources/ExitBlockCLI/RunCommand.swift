import ArgumentParser
import ExitBlock
import ExitSet
import NetfilterQueue

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
            cannot be read. SIGHUP reloads the lists (a list that fails to load is refused and \
            the set in force stays). On SIGINT or SIGTERM it answers the packets it holds, \
            unbinds, and prints its counters on stdout, one line per queue and a total:

              queue 0 packets=12 accepted=8 dropped=4 unparsable=0 ipv4=6 ipv6=6 ipv4_dropped=2 ipv6_dropped=2
              total packets=12 accepted=8 dropped=4 unparsable=0 ipv4=6 ipv6=6 ipv4_dropped=2 ipv6_dropped=2

            Needs root or CAP_NET_ADMIN. Refuses to start when a queue is taken by another \
            process or a list has no valid entry.
            """
    )

    @Option(
        name: .customLong("queue"),
        help: ArgumentHelp("NFQUEUE number or range (\"0\", \"0-3\"); repeatable. One thread per queue.", valueName: "n")
    )
    var queues: [NumberRange]

    @Option(
        name: .customLong("list"),
        help: ArgumentHelp("A list of exit addresses or prefixes (file path); repeatable, the set is the union.", valueName: "path")
    )
    var lists: [String]

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
        help: ArgumentHelp("Pin worker threads to these CPUs, in queue order (\"1\", \"0-3\"); repeatable.", valueName: "n")
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

    @Option(help: ArgumentHelp("Group owning the stats socket (mode 0660): its members may read it.", valueName: "name"))
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

    func validate() throws {
        guard !queues.isEmpty else { throw ValidationError("give at least one --queue") }
        guard !lists.isEmpty else { throw ValidationError("give at least one --list") }
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
        let loaded: (set: ExitSet, lists: [LoadedList])
        do {
            loaded = try ListLoader.loadSet(lists, format: format)
        } catch {
            Output.error("\(error); not starting")
            throw ExitCode(Status.failure)
        }
        report(loaded.lists)

        var template = QueueConfiguration(queue: 0)
        template.copyRange = copyRange
        template.maxLength = queueMaxLength
        template.burstSize = burstSize
        template.receiveBufferBytes = receiveBuffer
        template.gso = gso
        template.failOpen = failOpen
        let configuration = EngineConfiguration(
            queues: queues.flatMap { Array($0.numbers) },
            queueTemplate: template,
            policy: Policy(unparsableVerdict: unparsableVerdict.verdict),
            cpus: cpus.flatMap { $0.numbers.map(Int.init) },
            mode: mode
        )
        let engine: Engine
        do {
            engine = try Engine(configuration: configuration, initialSet: loaded.set) { Output.message($0) }
        } catch {
            Output.error("\(error); not starting")
            throw ExitCode.failure
        }
        if let invalidator = engine.invalidator {
            if let problem = invalidator.probe() {
                Output.error("flow mode: \(problem); established flows of newly listed addresses will not be cut")
            } else {
                Output.message("flow mode: conntrack entries of newly listed addresses are deleted on each publish")
            }
        }
        engine.start()
        let recorder = StatsRecorder()
        recorder.recordLoad(loaded.lists)
        let stats: StatsServer?
        do {
            stats = try startStats(engine, recorder)
        } catch {
            Output.error("\(error); not starting")
            engine.stop()
            throw ExitCode.failure
        }
        let set = loaded.set
        Output.message(
            "ready: queue \(configuration.queues.map(String.init).joined(separator: ",")) bound (IPv4 and IPv6); "
                + "\(set.count) entries (\(set.ipv4Count) IPv4, \(set.ipv6Count) IPv6) from \(lists.count) list(s)"
        )

        while true {
            let signal = signals.wait()
            if signal == SIGHUP {
                reload(engine, recorder)
                continue
            }
            Output.message("signal \(signal): stopping")
            break
        }
        stats?.stop()
        engine.stop()
        for (queue, values) in engine.counters() {
            Output.line("queue \(queue) \(values)")
        }
        Output.line("total \(engine.totalCounters())")
    }

    /// Opens the stats socket (and the TCP listener when asked); nil when neither is wanted.
    private func startStats(_ engine: Engine, _ recorder: StatsRecorder) throws -> StatsServer? {
        var server = StatsServer.Configuration(
            socketPath: noStatsSocket ? nil : statsSocket ?? StatsClient.defaultSocket, socketGroup: statsSocketGroup)
        if let metricsListen { server.tcp = try StatsServer.Configuration.parseListen(metricsListen) }
        if statsSocket == nil, let path = server.socketPath, StatsServer.isListening(path) {
            Output.message("stats: \(path) is served by another process; running without a stats socket")
            server.socketPath = nil
        }
        guard server.socketPath != nil || server.tcp != nil else { return nil }
        let routes = StatsRoutes { MetricsSnapshot.take(engine: engine, recorder: recorder) }
        let started = try StatsServer.start(server, routes: routes) {
            recorder.observe(setVersion: engine.cell.version)
        }
        var places: [String] = []
        if let path = server.socketPath { places.append(path) }
        if let tcp = started.tcpAddress { places.append("tcp \(tcp.host):\(tcp.port)") }
        Output.message("stats: serving /metrics, /stats, /healthz on \(places.joined(separator: " and "))")
        return started
    }

    /// SIGHUP: reload every list; on any failure the set in force stays.
    private func reload(_ engine: Engine, _ recorder: StatsRecorder) {
        do {
            let loaded = try ListLoader.loadSet(lists, format: format)
            let before = engine.cell.snapshot.count
            let pause = engine.publish(loaded.set)
            recorder.recordLoad(loaded.lists)
            report(loaded.lists)
            Output.message("reloaded: \(before) -> \(loaded.set.count) entries; grace period \(pause / 1000) us")
        } catch {
            recorder.recordRefusal(path: error.path, reason: error.reason, error: "\(error)")
            Output.error("reload refused, the previous set stays in force: \(error)")
        }
    }

    private func report(_ lists: [LoadedList]) {
        for loaded in lists { loaded.report(rejectedLimit: 5) }
    }
}

/// `accept` or `drop`, for options that take a verdict.
enum VerdictArgument: String, ExpressibleByArgument, CaseIterable {
    case accept, drop

    var verdict: Verdict { self == .accept ? .accept : .drop }
}
