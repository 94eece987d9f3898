/// What `exitblock bgp` was asked to feed, built once by the CLI from its options.
public struct BGPFeedConfiguration: Sendable {
    /// The speaker fed (`--speaker`).
    public var speaker: BGPSpeakerKind
    /// Route style, next hops, communities, aggregation.
    public var settings: RouteSettings
    /// The most routes a set may need (`--max-routes`, 0: no limit).
    public var maximumRoutes: Int
    /// BIRD: the include file, the control socket and the static protocols' text.
    public var birdInclude: String
    public var birdSocket: String
    public var birdConfig: BIRDStaticConfig
    /// `--allow` values: addresses, prefixes or list files, never announced.
    public var allows: [String]
    /// Print what would be announced without speaking to anything.
    public var dryRun: Bool
    /// The file of the routes in force, kept between runs; nil: none (dry-run, --no-cache).
    public var ledgerPath: String?

    public init(
        speaker: BGPSpeakerKind,
        settings: RouteSettings,
        maximumRoutes: Int,
        birdInclude: String,
        birdSocket: String,
        birdConfig: BIRDStaticConfig,
        allows: [String],
        dryRun: Bool,
        ledgerPath: String?
    ) {
        self.speaker = speaker
        self.settings = settings
        self.maximumRoutes = maximumRoutes
        self.birdInclude = birdInclude
        self.birdSocket = birdSocket
        self.birdConfig = birdConfig
        self.allows = allows
        self.dryRun = dryRun
        self.ledgerPath = ledgerPath
    }
}
