import Engine
import ListSources
import Rules
import Stats

/// What `exitblock run` was asked to do: built once by the CLI from its options and handed to
/// the Daemon, which owns the start and stop order.
public struct DaemonConfiguration: Sendable {
    /// Queues, policy, mode, CPUs.
    public var engine: EngineConfiguration
    /// The lists, their format, refresh, guards and disk cache.
    public var refresh: RefreshConfiguration
    /// `--allow` values: addresses, prefixes or list files.
    public var allows: [String] = []
    /// Where the stats are served; neither a socket nor TCP: no stats server.
    public var stats = StatsServer.Configuration(socketPath: nil)
    /// The socket is the default path (not given): when another exitblock serves it, this
    /// one runs without it instead of refusing to start.
    public var statsSocketIsDefault = false
    /// `--user`: the user to switch to once the queues are bound (nil: stay).
    public var user: String?
    /// The verdict caches asked for; attached once the privileges are lowered.
    public var verdictCaches = VerdictCacheRequest.off(nil)
    /// The rule watch (`--watch-rules`, `--restore-rules`); nil: the rules are not watched.
    public var ruleWatch: RuleWatch.Configuration?
    /// `--handover-socket`: where a starting exitblock asks this one for its queues, and
    /// where this one asks a running one at start (see QueueHandover); nil: off.
    public var handoverSocket: String?

    public init(engine: EngineConfiguration, refresh: RefreshConfiguration, user: String?) {
        self.engine = engine
        self.refresh = refresh
        self.user = user
    }

    /// The queue numbers as the log writes them ("0,1,2").
    var queueNumbers: String { engine.queues.map(String.init).joined(separator: ",") }
}
