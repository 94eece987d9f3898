import Foundation

/// The wall clock, as Unix seconds: what the stats report and the disk cache records (ages,
/// last refresh). Intervals and deadlines use `ContinuousClock`, which never jumps.
public enum WallClock {
    /// Now, as Unix seconds.
    public static func now() -> Double {
        Date().timeIntervalSince1970
    }
}
