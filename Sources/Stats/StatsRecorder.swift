import Engine
import ExitSet
import LinuxSystem
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What the stats server reports beside the counters: the list sources with their last load,
/// refusals by reason, when the set in force was published, and when the process started.
///
/// The run loop records loads and refusals; the server's timer calls `observe(setVersion:)`
/// every second, so a set's publication time is known to within a second without the
/// publisher having to report it. All methods take a short lock; none is on the hot path.
public final class StatsRecorder: Sendable {
    /// One list source: its figures at the last successful load and the last attempt's result.
    public struct Source: Sendable, Equatable, Codable {
        public var path: String
        public var ipv4Entries: Int
        public var ipv6Entries: Int
        /// Unix time of the last load attempt.
        public var lastRefresh: Double
        /// Whether that attempt succeeded.
        public var lastRefreshOK: Bool
        /// Why it failed, empty when it did not.
        public var lastError: String
        /// `file` or `url`.
        public var kind: String = "file"
        /// The format of the version in force, empty when there is none.
        public var format: String = ""
        /// The last attempt's result (`SourceResult`: ok, not_modified, unchanged, refused,
        /// error), empty before the first attempt.
        public var lastResult: String = ""
        /// The last attempt's refusal reason, empty when it succeeded.
        public var lastReason: String = ""
        /// Unix time the version in force was read, fetched or last confirmed current (a 304
        /// confirms; from the cache: when it was fetched); 0 when there is none.
        public var lastSuccess: Double = 0
        /// The version in force came from the disk cache and has not been confirmed since.
        public var fromCache: Bool = false
        /// The source has a version in force.
        public var loaded: Bool = true
        /// Attempts so far, by result.
        public var results: [String: UInt64] = [:]

        public init(
            path: String,
            ipv4Entries: Int,
            ipv6Entries: Int,
            lastRefresh: Double,
            lastRefreshOK: Bool,
            lastError: String = "",
            loaded: Bool = true
        ) {
            self.loaded = loaded
            self.path = path
            self.ipv4Entries = ipv4Entries
            self.ipv6Entries = ipv6Entries
            self.lastRefresh = lastRefresh
            self.lastRefreshOK = lastRefreshOK
            self.lastError = lastError
        }
    }

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

    public init(processStart: Double = StatsRecorder.processStartTime(), now: Double = StatsRecorder.now()) {
        self.processStart = processStart
        state = Mutex(State(setPublished: now))
    }

    /// Records a successful load of these lists (at start or on a reload).
    public func recordLoad(_ lists: [LoadedList], at time: Double = StatsRecorder.now()) {
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
    public func recordRefusal(path: String?, reason: String, error: String, at time: Double = StatsRecorder.now()) {
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
    public func observe(setVersion: UInt64, at time: Double = StatsRecorder.now()) -> Double {
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

    /// Wall-clock time as Unix seconds.
    public static func now() -> Double {
        Date().timeIntervalSince1970
    }

    /// The process start time from /proc (boot time + start ticks), or now when unreadable.
    public static func processStartTime() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")"),
            let uptime = try? String(contentsOfFile: "/proc/stat", encoding: .utf8)
        else { return now() }
        // Field 22 (starttime) counts from 1; after the ")" the fields start at 3 (state).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]),
            let line = uptime.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(line.dropFirst(6).trimmingWhitespace())
        else { return now() }
        return boot + ticks / Double(CurrentProcess.clockTicksPerSecond)
    }
}
