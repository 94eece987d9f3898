import Engine
import ListSources
import Rules
import Stats

/// What `exitblock run` was asked to do: built once by RunCommand from its options and
/// handed to the Daemon, which owns the start and stop order.
struct DaemonConfiguration: Sendable {
    /// Queues, policy, mode, CPUs.
    var engine: EngineConfiguration
    /// The lists, their format, refresh, guards and disk cache.
    var refresh: RefreshConfiguration
    /// `--allow` values: addresses, prefixes or list files.
    var allows: [String] = []
    /// Where the stats are served; neither a socket nor TCP: no stats server.
    var stats = StatsServer.Configuration(socketPath: nil)
    /// The socket is the default path (not given): when another exitblock serves it, this
    /// one runs without it instead of refusing to start.
    var statsSocketIsDefault = false
    /// `--user` and the config file.
    var service: ServiceOptions
    /// Attaches the drop cache to the engine and starts its poller, or says why not (nil);
    /// called once the privileges are lowered.
    var dropCache: @Sendable (Engine) -> DropCache? = { _ in nil }
    /// The rule watch (`--watch-rules`, `--restore-rules`); nil: the rules are not watched.
    var ruleWatch: RuleWatch.Configuration?

    /// The queue numbers as the log writes them ("0,1,2").
    var queueNumbers: String { engine.queues.map(String.init).joined(separator: ",") }
}
