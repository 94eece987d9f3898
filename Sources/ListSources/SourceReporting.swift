import LinuxSystem

/// Where the list sources report what they do: every load, refresh attempt, refusal and rebuilt
/// set. Stats implements it (`StatsRecorder`, which serves the figures); ListSources knows no
/// more of Stats than this. Each call takes a short lock at most; none is on the hot path.
public protocol SourceReporting: Sendable {
    /// Replaces what is known of a source (matched by path), keeping its result counts.
    func updateSource(_ source: SourceStatus)
    /// Records one refresh attempt of a source: its new status, one more attempt of `result`,
    /// and, when `reason` is given, one more refusal of that reason.
    func recordAttempt(_ source: SourceStatus, result: String, reason: String?)
    /// Counts a union set built from the sources and published after start.
    func recordRebuild()
    /// Records a refused load at `time` (Unix seconds): `reason` is a short stable word (the
    /// metric label), `error` the full message; nil `path` for a refusal of no one source.
    func recordRefusal(path: String?, reason: String, error: String, at time: Double)
}

extension SourceReporting {
    /// Records a refused load now.
    public func recordRefusal(path: String?, reason: String, error: String) {
        recordRefusal(path: path, reason: reason, error: error, at: WallClock.now())
    }
}
