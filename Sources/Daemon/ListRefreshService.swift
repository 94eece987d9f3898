import Engine
import ExitSet
import ServiceLifecycle
import ListSources

/// The refresher's loop as a service of the daemon's group: refreshes the lists until the
/// group shuts down, then stops asking for new versions (no publish after that) and cancels
/// the fetches in flight.
struct ListRefreshService: DaemonService {
    let refresher: SourceRefresher
    /// Hands a new set to the workers; returns the grace period in ns.
    let publish: @Sendable (ExitSet) -> UInt64
    /// Called when a reload (SIGHUP) is over, whether its versions were taken or refused.
    let reloaded: @Sendable () -> Void

    func run() async {
        let refresher = refresher
        let publish = publish
        let reloaded = reloaded
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                await refresher.run(publish: publish, reloaded: reloaded)
            }
        } onGracefulShutdown: {
            refresher.requestStop()
        }
    }
}
