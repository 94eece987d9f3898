/// What `exitblock bgp` has put to its BGP speaker: routes in force, announcements and
/// withdrawals since start, the last sync, refused updates. Served on the stats socket.
public struct BGPFigures: Sendable, Equatable, Codable {
    /// "exabgp", "bird" or "dry-run".
    public var speaker: String
    /// "flowspec" or "rtbh".
    public var style: String
    /// Routes in force, by family.
    public var ipv4Routes: Int = 0
    public var ipv6Routes: Int = 0
    /// Routes announced and withdrawn since start (the start's announcements included).
    public var announced: UInt64 = 0
    public var withdrawn: UInt64 = 0
    /// Updates handed to the speaker (the start's included).
    public var syncs: UInt64 = 0
    /// Unix time of the last update the speaker took; 0 before the first.
    public var lastSync: Double = 0
    /// Updates refused (the routes in force stayed), by reason.
    public var refused: [String: UInt64] = [:]
    /// The last refusal's message; empty when the last update was taken.
    public var lastError: String = ""
    /// `--max-routes` (0: no limit).
    public var maximumRoutes: Int = 0

    public init(speaker: String, style: String, maximumRoutes: Int) {
        self.speaker = speaker
        self.style = style
        self.maximumRoutes = maximumRoutes
    }

    public var routes: Int { ipv4Routes + ipv6Routes }
}
