import BGPFeed
import ListSources
import Stats

/// What `exitblock bgp` was asked to do: built once by the CLI from its options and handed to
/// the BGPDaemon.
public struct BGPDaemonConfiguration: Sendable {
    /// The speaker, the route settings, the allowlist, dry-run.
    public var feed: BGPFeedConfiguration
    /// The lists, their format, refresh, guards and disk cache.
    public var refresh: RefreshConfiguration
    /// Where the stats are served; neither a socket nor TCP: no stats server.
    public var stats: StatsServer.Configuration
    /// The socket is the default path (not given): when another process serves it, this one
    /// runs without it.
    public var statsSocketIsDefault: Bool

    public init(
        feed: BGPFeedConfiguration,
        refresh: RefreshConfiguration,
        stats: StatsServer.Configuration,
        statsSocketIsDefault: Bool
    ) {
        self.feed = feed
        self.refresh = refresh
        self.stats = stats
        self.statsSocketIsDefault = statsSocketIsDefault
    }
}
