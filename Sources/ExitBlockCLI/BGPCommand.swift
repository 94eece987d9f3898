import ArgumentParser
import BGPFeed
import Daemon
import ExitSet
import LinuxSystem
import Stats

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
            (static protocols exitblock4 and exitblock6) atomically and sends `configure` on \
            BIRD's control socket. Each refresh announces only the new routes and withdraws only the removed \
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

    @Option(
        help: ArgumentHelp(
            "Ignored: exitblock speaks BIRD's control socket itself (kept so command lines still parse).",
            valueName: "path"
        )
    )
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
        sourceOptions.logLevel.bootstrap()
        let daemon = BGPDaemon(configuration: try daemonConfiguration())
        let taken: Bool
        do {
            taken = try daemon.run()
        } catch {
            Output.error("\(error)")
            throw ExitCode(error.exitCode)
        }
        if !taken { throw ExitCode(Status.failure) }
    }

    /// Everything the daemon needs from the options, built once.
    private func daemonConfiguration() throws -> BGPDaemonConfiguration {
        let settings = try routeSettings()
        let feed = BGPFeedConfiguration(
            speaker: speaker,
            settings: settings,
            maximumRoutes: maxRoutes,
            birdInclude: birdInclude,
            birdSocket: birdSocket,
            birdConfig: BIRDStaticConfig(settings: settings, flowTables: try flowTables()),
            allows: allows,
            dryRun: dryRun,
            ledgerPath: dryRun || sourceOptions.noCache
                ? nil : sourceOptions.stateDirectory + "/bgp-\(speaker.rawValue).routes"
        )
        var stats = StatsServer.Configuration(
            socketPath: noStatsSocket ? nil : statsSocket ?? StatsClient.defaultSocket
        )
        // validate() parsed it already.
        stats.tcp = metricsListen.flatMap { try? StatsServer.Configuration.parseListen($0) }
        return BGPDaemonConfiguration(
            feed: feed,
            refresh: sourceOptions.configuration(),
            stats: stats,
            statsSocketIsDefault: statsSocket == nil
        )
    }
}
