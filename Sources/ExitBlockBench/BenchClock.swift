#if canImport(Glibc)
    import Glibc
#endif

/// CLOCK_MONOTONIC readings for the benchmarks. Cost: one vDSO call (~20 ns).
enum BenchClock {
    /// Nanoseconds since an arbitrary start.
    @inline(__always)
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// Runs `body` and returns its result and how long it took, in nanoseconds.
    @inline(__always)
    static func measure<T>(_ body: () throws -> T) rethrows -> (result: T, nanoseconds: UInt64) {
        let start = now()
        let result = try body()
        return (result, now() &- start)
    }
}
