import ArgumentParser
import Engine
import ExitSet
import ListSources

/// The lists and how they are had, shared by `run` and `bgp` (so both read lists the same
/// way): the sources and their format, refresh, fetch limits, disk cache, guards.
struct SourceOptions: ParsableArguments {
    @Option(
        name: .customLong("list"),
        help: ArgumentHelp(
            "A list of exit addresses or prefixes: a file path or an http(s) URL; repeatable, the set is the union.",
            valueName: "path|url"
        )
    )
    var lists: [String]

    @Option(help: "List format; detected from the content when not given.")
    var format: ListFormat?

    @Option(help: "Time between two fetches of a URL list (90s, 30m, 1h). A failed fetch is retried sooner.")
    var refreshInterval = DurationArgument(seconds: 1800)

    @Option(
        help: ArgumentHelp(
            "Report a URL list stale (healthz, stats, metrics) when its last good version is older than this (0: never); it stays in force.",
            valueName: "duration"
        )
    )
    var maxSourceAge = DurationArgument(seconds: RefreshConfiguration.defaultMaxSourceAge)

    @Option(help: "Overall deadline of one fetch of a URL list (connect and read timeouts are at most this).")
    var fetchTimeout = DurationArgument(seconds: 30)

    @Option(help: ArgumentHelp("The largest list accepted, downloaded or read, in bytes.", valueName: "bytes"))
    var maxListBytes: Int = 64 << 20

    @Option(help: ArgumentHelp("Where the last good version of each list is kept.", valueName: "path"))
    var stateDirectory: String = "/var/lib/exitblock"

    @Flag(help: "Keep no copy of the lists on disk (no start from the cache when a source is down).")
    var noCache = false

    @Option(
        help: ArgumentHelp(
            "Refuse a new version of a list that lost more than this fraction of its entries.",
            valueName: "fraction"
        )
    )
    var maxShrink: Double = 0.5

    @Option(help: ArgumentHelp("Refuse a list with an IPv4 prefix shorter than /n.", valueName: "n"))
    var maxPrefixIpv4: UInt8 = 16

    @Option(help: ArgumentHelp("Refuse a list with an IPv6 prefix shorter than /n.", valueName: "n"))
    var maxPrefixIpv6: UInt8 = 32

    @Flag(help: "Accept a list that shrank too much or holds too broad a prefix anyway (a /0 is never accepted).")
    var acceptRiskyLists = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: LogLevelArgument = .info

    func validate() throws {
        guard !lists.isEmpty else { throw ValidationError("give at least one --list") }
        guard refreshInterval.seconds >= 1 else { throw ValidationError("--refresh-interval must be at least 1s") }
        guard fetchTimeout.seconds >= 0.1 else { throw ValidationError("--fetch-timeout must be at least 100ms") }
        guard maxSourceAge.seconds >= 0 else { throw ValidationError("--max-source-age must not be negative") }
        guard maxListBytes > 0 else { throw ValidationError("--max-list-bytes must be positive") }
        guard (0...1).contains(maxShrink) else { throw ValidationError("--max-shrink must be between 0 and 1") }
        guard (1...32).contains(maxPrefixIpv4) else { throw ValidationError("--max-prefix-ipv4 must be 1 to 32") }
        guard (1...128).contains(maxPrefixIpv6) else { throw ValidationError("--max-prefix-ipv6 must be 1 to 128") }
    }

    /// The refresher's configuration for these lists.
    func configuration() -> RefreshConfiguration {
        var configuration = RefreshConfiguration(sources: lists.map(ListSource.init), format: format)
        configuration.refreshInterval = refreshInterval.seconds
        configuration.retryInterval = min(30, refreshInterval.seconds)
        configuration.fetchTimeout = fetchTimeout.seconds
        configuration.maxSourceAge = maxSourceAge.seconds
        configuration.listings = SourceListings()
        configuration.maximumBytes = maxListBytes
        configuration.stateDirectory = noCache ? nil : stateDirectory
        configuration.guards = ListGuard(
            maximumShrink: maxShrink,
            shortestIPv4Prefix: maxPrefixIpv4,
            shortestIPv6Prefix: maxPrefixIpv6,
            acceptRisky: acceptRiskyLists
        )
        return configuration
    }
}
