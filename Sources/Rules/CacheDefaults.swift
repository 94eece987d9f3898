/// The verdict caches' defaults and bounds, defined once: `rules install` creates the sets
/// with them, `run` re-creates a set whose options differ from what it is asked, and the
/// options and config keys clamp what is given to them. Here, in the rules' room, because
/// both the rule sets (which create the sets) and the cache (which fills them) use them.
public enum CacheDefaults {
    /// Seconds an address stays in a cache after the daemon's last verdict on it.
    public static let timeout: UInt32 = 60
    /// The accept cache's bound per family (ipset maxelem, nf_tables size).
    public static let acceptSize: UInt32 = 262_144
    /// The longest timeout a set takes: ipset's (UINT_MAX / 1000 seconds).
    public static let maximumTimeout: UInt32 = 2_147_483

    /// The timeouts a set takes, in seconds.
    public static let timeoutRange: ClosedRange<UInt32> = 1...maximumTimeout

    /// Seconds given as a whole number for the rules to check against `timeoutRange`: rounded
    /// up, 0 below zero, UInt32.max beyond it (so that an out-of-range value is refused, not bent).
    public static func wholeSeconds(_ seconds: Double) -> UInt32 {
        let rounded = seconds.rounded(.up)
        return rounded >= Double(UInt32.max) ? UInt32.max : UInt32(max(0, rounded))
    }

    /// A timeout given in seconds as a set takes it: rounded up, at least 1, at most `maximumTimeout`.
    public static func timeout(seconds: Double) -> UInt32 {
        guard seconds.isFinite else { return seconds > 0 ? maximumTimeout : 1 }
        return UInt32(min(max(seconds.rounded(.up), 1), Double(maximumTimeout)))
    }

    /// A size given as a set takes it: at least 1.
    public static func size(_ entries: UInt32) -> UInt32 { max(entries, 1) }
}
