import ExitSet
import LinuxSystem
import Synchronization

/// Keeps a speaker's routes equal to the guarded exit set: each new set goes through the
/// `RoutePlanner` (allowlist, aggregation, `--max-routes`), and only the difference with the
/// routes in force is handed to the speaker. A refused set, or one the speaker did not take,
/// changes nothing: the routes in force stay announced. Thread-safe; `figures` can be read
/// from the stats server's thread at any time.
public final class RouteFeed: Sendable {
    /// What one update did.
    public enum Outcome: Sendable, Equatable {
        case applied(RouteDelta)
        case unchanged
        case refused(BGPFeedError)
    }

    public let planner: RoutePlanner
    public let speaker: any RouteSpeaker
    private let ledger: RouteLedger?
    private let state: Mutex<State>

    private struct State {
        var routes: [IPPrefix]
        var started = false
        var speakerFailed = false
        var figures: BGPFigures
    }

    /// `ledger` (nil: none) gives the routes a previous run left in force.
    public init(planner: RoutePlanner, speaker: any RouteSpeaker, ledger: RouteLedger?) {
        self.planner = planner
        self.speaker = speaker
        self.ledger = ledger
        let figures = BGPFigures(
            speaker: speaker.name,
            style: planner.settings.style.rawValue,
            maximumRoutes: planner.maximumRoutes
        )
        state = Mutex(State(routes: ledger?.read() ?? [], figures: figures))
    }

    /// The routes in force, sorted.
    public var routes: [IPPrefix] { state.withLock { $0.routes } }

    /// True when the last update failed at the speaker (not at a guard): the caller should
    /// try the same set again later.
    public var needsRetry: Bool { state.withLock { $0.speakerFailed } }

    /// The figures for the stats socket.
    public var figures: BGPFigures { state.withLock { $0.figures } }

    /// Puts the routes for `exits` without `allowlist` in force. The first call after start
    /// tells the speaker it is the initial one (see `RouteSpeaker.apply`).
    @discardableResult
    public func update(exits: ExitSet, allowlist: ExitSet, now: Double = WallClock.now()) -> Outcome {
        state.withLock { state in
            let initial = !state.started
            var routes = state.routes
            var refusal: BGPFeedError?
            do throws(BGPFeedError) {
                routes = try planner.routes(for: exits, allowlist: allowlist, inForce: state.routes.count)
            } catch {
                refusal = error
            }
            if let refusal, !initial || state.routes.isEmpty {
                state.started = true
                state.speakerFailed = false
                return refuse(refusal, &state)
            }
            // A refused set at start: the last good routes (the ledger's) are announced again,
            // so that a speaker that restarted too gets them back.
            let delta = RouteDelta(from: state.routes, to: routes)
            guard initial || !delta.isEmpty else { return .unchanged }
            do throws(BGPFeedError) {
                try speaker.apply(delta, routes: routes, initial: initial)
            } catch {
                // A failed first write leaves the speaker's state unknown: the next update
                // is initial again (the whole set).
                state.speakerFailed = true
                return refuse(error, &state)
            }
            state.started = true
            state.speakerFailed = false
            state.routes = routes
            let count = RouteCount(routes)
            state.figures.ipv4Routes = count.ipv4
            state.figures.ipv6Routes = count.ipv6
            state.figures.announced += UInt64(initial ? routes.count : delta.announce.count)
            state.figures.withdrawn += UInt64(delta.withdraw.count)
            state.figures.syncs += 1
            state.figures.lastSync = now
            state.figures.lastError = ""
            if let ledger {
                do {
                    try ledger.write(routes)
                } catch {
                    state.figures.lastError = "\(error)"
                }
            }
            if let refusal { return refuse(refusal, &state) }
            return .applied(delta)
        }
    }

    private func refuse(_ error: BGPFeedError, _ state: inout State) -> Outcome {
        state.figures.refused[error.reason, default: 0] += 1
        state.figures.lastError = "\(error)"
        return .refused(error)
    }
}
