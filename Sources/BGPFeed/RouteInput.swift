import ExitSet
import Synchronization

/// The set and allowlist last handed to the feed, shared by the refresher, the retry loop, the
/// SIGHUP handler and the stats server.
public final class RouteInput: Sendable {
    private let state: Mutex<(set: ExitSet, allowlist: ExitSet, version: UInt64)>

    public init(set: ExitSet, allowlist: ExitSet) {
        state = Mutex((set, allowlist, 0))
    }

    public var set: ExitSet { state.withLock { $0.set } }
    public var allowlist: ExitSet { state.withLock { $0.allowlist } }
    /// Counts the sets stored since start (the stats' set version).
    public var version: UInt64 { state.withLock { $0.version } }

    public func store(set: ExitSet) {
        state.withLock {
            $0.set = set
            $0.version += 1
        }
    }

    public func store(allowlist: ExitSet) {
        state.withLock { $0.allowlist = allowlist }
    }
}
