import ArgumentParser
import Daemon
import Engine
import ExitSet
import LinuxSystem
import ListSources
import Logging
import NetfilterQueue
import Rules
import Stats
import VerdictCache

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

            Example, with the shipped configuration's lists (the bulk exit list for the IPv4 \
            addresses exits leave from, Onionoo's running exits for their IPv4 and IPv6 \
            addresses and exit policies):

              exitblock run --queue 0 --list https://check.torproject.org/torbulkexitlist \
            --list 'https://onionoo.torproject.org/details?search=flag:exit%20running:true&fields=nickname,or_addresses,exit_addresses,flags,exit_policy_summary,exit_policy_v6_summary'
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

    @OptionGroup(title: "List sources")
    var sourceOptions: SourceOptions

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

    @OptionGroup(title: "Rule watch") var ruleWatch: RuleWatchOptions

    func validate() throws {
        guard !queues.isEmpty else { throw ValidationError("give at least one --queue") }
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
        sourceOptions.logLevel.bootstrap()
        var configuration = daemonConfiguration()
        do {
            configuration.ruleWatch = try ruleWatch.configuration(
                configPath: service.configFile.path,
                queues: queues.map(\.numbers),
                mode: mode,
                match: match,
                reject: reject
                    ? (
                        (rejectMark ?? MarkArgument(PacketMark.defaultReject)).value,
                        (rejectMark ?? MarkArgument(PacketMark.defaultReject)).mask
                    ) : nil,
                dropCache: dropCache,
                acceptCache: acceptCache
            )
        } catch {
            Output.error("rule watch: \(error)")
            throw ExitCode(2)
        }
        let daemon = Daemon(configuration: configuration)
        do {
            try daemon.run()
        } catch {
            Output.error("\(error)")
            throw ExitCode(error.exitCode)
        }
    }

    /// Everything the daemon needs from the options, built once.
    private func daemonConfiguration() -> DaemonConfiguration {
        let engine = engineConfiguration()
        var configuration = DaemonConfiguration(
            engine: engine,
            refresh: sourceOptions.configuration(),
            user: service.user
        )
        configuration.allows = allows
        configuration.stats = StatsServer.Configuration(
            socketPath: noStatsSocket ? nil : statsSocket ?? StatsClient.defaultSocket,
            socketGroup: statsSocketGroup
        )
        // validate() parsed it already.
        configuration.stats.tcp = metricsListen.flatMap { try? StatsServer.Configuration.parseListen($0) }
        configuration.statsSocketIsDefault = statsSocket == nil
        configuration.verdictCaches = verdictCacheRequest(policy: engine.policy)
        configuration.handoverSocket = service.handoverPath
        return configuration
    }

    /// The verdict caches the options ask for, with their timeouts and size; off in dry-run,
    /// with exit policies or relay mode (a cached address would take every port), and with
    /// --user (the ipset program would run without the capability it needs). The accept cache
    /// is asked for in packet mode with --match source or destination only.
    private func verdictCacheRequest(policy: Policy) -> VerdictCacheRequest {
        var wanted = DropCache.Wanted()
        wanted.drop = dropCache
        wanted.accept = acceptCache && mode == .packet && match != .both
        guard wanted.drop || wanted.accept else { return .off(nil) }
        if dryRun { return .off("verdict caches: off (dry-run)") }
        if policy.judgesPorts {
            return .off("verdict caches: off (exit policies or relay mode: a cached address would take every port)")
        }
        func seconds(_ duration: DurationArgument?) -> UInt32? {
            duration.map { CacheDefaults.timeout(seconds: $0.seconds) }
        }
        wanted.dropTimeout = seconds(dropCacheTimeout)
        wanted.acceptTimeout = seconds(acceptCacheTimeout)
        wanted.acceptSize = acceptCacheSize.map(CacheDefaults.size)
        return .wanted(wanted)
    }

    /// The engine's settings from the options.
    private func engineConfiguration() -> EngineConfiguration {
        let chosenMark = rejectMark ?? MarkArgument(PacketMark.defaultReject)
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
                relayPorts: sourceOptions.format == .relays
            ),
            cpus: cpus.flatMap { $0.numbers.map(Int.init) },
            mode: mode,
            matchDirection: match
        )
    }
}

/// `accept` or `drop`, for options that take a verdict.
enum VerdictArgument: String, ExpressibleByArgument, CaseIterable {
    case accept, drop

    var verdict: Verdict { self == .accept ? .accept : .drop }
}
