import LinuxSystem

/// CLOCK_MONOTONIC readings for the benchmarks. Cost: one vDSO call (~20 ns).
enum BenchClock {
    /// Nanoseconds since an arbitrary start.
    @inline(__always)
    static func now() -> UInt64 {
        CurrentProcess.monotonicNanoseconds()
    }

    /// Runs `body` and returns its result and how long it took, in nanoseconds.
    @inline(__always)
    static func measure<T>(_ body: () throws -> T) rethrows -> (result: T, nanoseconds: UInt64) {
        let start = now()
        let result = try body()
        return (result, now() &- start)
    }
}
