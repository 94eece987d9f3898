import ExitSet

/// Turns an exit set into the routes to put in force, with the routers' guards: allowlisted
/// addresses are cut out, prefixes are aggregated when the settings allow it, a set over
/// `maximumRoutes` is refused, and so is a set that would withdraw every route in force. Pure.
public struct RoutePlanner: Sendable {
    public var settings: RouteSettings
    /// The most routes (both families) put in force; 0 for no limit.
    public var maximumRoutes: Int

    public init(settings: RouteSettings, maximumRoutes: Int) {
        self.settings = settings
        self.maximumRoutes = maximumRoutes
    }

    /// The routes for `exits` without `allowlist`, sorted; throws when a guard refuses them.
    /// `inForce` is the number of routes announced now.
    public func routes(
        for exits: ExitSet,
        allowlist: ExitSet,
        inForce: Int
    ) throws(BGPFeedError) -> [IPPrefix] {
        let routes = RouteAggregator.routes(
            for: exits.entries,
            excluding: allowlist.entries,
            aggregate: settings.aggregate
        )
        if maximumRoutes > 0 && routes.count > maximumRoutes {
            throw .tooManyRoutes(count: RouteCount(routes), limit: maximumRoutes)
        }
        if routes.isEmpty && inForce > 0 { throw .wouldWithdrawEverything(inForce: inForce) }
        return routes
    }
}
