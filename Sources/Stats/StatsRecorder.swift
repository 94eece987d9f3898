import LinuxSystem
import ListSources
import Synchronization

/// What the stats server reports beside the counters: the list sources with their last load,
/// refusals by reason, when the set in force was published, and when the process started.
///
/// The run loop records loads and refusals; the server's timer calls `observe(setVersion:)`
/// every second, so a set's publication time is known to within a second without the
/// publisher having to report it. All methods take a short lock; none is on the hot path.
public final class StatsRecorder: SourceReporting {
    /// One list source: its figures at the last successful load and the last attempt's result.
    public typealias Source = SourceStatus

    private struct State {
        var sources: [Source] = []
        var refusals: [String: UInt64] = [:]
        var setVersion: UInt64 = 0
        var setPublished: Double
        var rebuilds: UInt64 = 0
    }

    /// Unix time the process started (read from /proc/self/stat when possible).
    public let processStart: Double
    private let state: Mutex<State>

    public init(processStart: Double = CurrentProcess.startTime(), now: Double = WallClock.now()) {
        self.processStart = processStart
        state = Mutex(State(setPublished: now))
    }

    /// Records a successful load of these lists (at start or on a reload).
    public func recordLoad(_ lists: [LoadedList], at time: Double = WallClock.now()) {
        state.withLock { state in
            for loaded in lists {
                var source = Source(
                    path: loaded.path,
                    ipv4Entries: loaded.list.ipv4Count,
                    ipv6Entries: loaded.list.ipv6Count,
                    lastRefresh: time,
                    lastRefreshOK: true
                )
                source.format = loaded.list.format.rawValue
                source.lastResult = "ok"
                source.lastSuccess = time
                if let index = state.sources.firstIndex(where: { $0.path == loaded.path }) {
                    state.sources[index] = source
                } else {
                    state.sources.append(source)
                }
            }
        }
    }

    /// Records a refused load: `reason` is a short stable word (the metric label), `error` the
    /// full message; the source keeps the figures of its last good load.
    public func recordRefusal(path: String?, reason: String, error: String, at time: Double = WallClock.now()) {
        state.withLock { state in
            state.refusals[reason, default: 0] &+= 1
            guard let path else { return }
            if let index = state.sources.firstIndex(where: { $0.path == path }) {
                state.sources[index].lastRefresh = time
                state.sources[index].lastRefreshOK = false
                state.sources[index].lastError = error
            } else {
                state.sources.append(
                    Source(
                        path: path,
                        ipv4Entries: 0,
                        ipv6Entries: 0,
                        lastRefresh: time,
                        lastRefreshOK: false,
                        lastError: error,
                        loaded: false
                    )
                )
            }
        }
    }

    /// Replaces what is known of a source (matched by path), keeping its result counts.
    public func updateSource(_ source: Source) {
        state.withLock { state in Self.store(source, in: &state, result: nil) }
    }

    /// Records one refresh attempt of a source: its new status, one more attempt of `result`,
    /// and, when `reason` is given, one more refusal of that reason.
    public func recordAttempt(_ source: Source, result: String, reason: String?) {
        state.withLock { state in
            Self.store(source, in: &state, result: result)
            if let reason { state.refusals[reason, default: 0] &+= 1 }
        }
    }

    /// Counts a union set built from the sources and published after start.
    public func recordRebuild() {
        state.withLock { $0.rebuilds &+= 1 }
    }

    /// Sets rebuilt and published by the source refresher since start.
    public var rebuilds: UInt64 { state.withLock { $0.rebuilds } }

    private static func store(_ source: Source, in state: inout State, result: String?) {
        var source = source
        if let index = state.sources.firstIndex(where: { $0.path == source.path }) {
            source.results = state.sources[index].results
            state.sources[index] = source
        } else {
            source.results = [:]
            state.sources.append(source)
        }
        if let result, let index = state.sources.firstIndex(where: { $0.path == source.path }) {
            state.sources[index].results[result, default: 0] &+= 1
        }
    }

    /// Notes the set version seen now; a new version is taken as published now. Returns the
    /// publication time of the set in force.
    @discardableResult
    public func observe(setVersion: UInt64, at time: Double = WallClock.now()) -> Double {
        state.withLock { state in
            if setVersion != state.setVersion {
                state.setVersion = setVersion
                state.setPublished = time
            }
            return state.setPublished
        }
    }

    /// The sources, in the order first recorded.
    public var sources: [Source] { state.withLock { $0.sources } }

    /// Refusals so far, by reason.
    public var refusals: [String: UInt64] { state.withLock { $0.refusals } }
}
