import ExitSet

/// Where the feed's routes go: ExaBGP's API pipe, a BIRD include file, or stdout (dry run).
public protocol RouteSpeaker: Sendable {
    /// "exabgp", "bird", "dry-run".
    var name: String { get }
    /// Puts `delta` in force. `routes` is the whole new set; `initial` is true for the first
    /// update after start, when the speaker may hold routes this process never saw (a restart):
    /// a speaker that keeps routes across restarts announces the whole set then. Throws when
    /// the speaker did not take the change (the routes in force stay as they were).
    func apply(_ delta: RouteDelta, routes: [IPPrefix], initial: Bool) throws(BGPFeedError)
}
