#if canImport(Glibc)
    import Glibc
#endif

/// Synchronous signal handling: the signals are blocked in every thread (so no handler runs
/// at an arbitrary point) and the main thread takes them one at a time with `sigwait`.
/// Create it before any thread starts, so the threads inherit the blocked mask.
public struct SignalWaiter {
    private var set = sigset_t()

    /// SIGINT.
    public static let interrupt = SIGINT
    /// SIGTERM.
    public static let terminate = SIGTERM
    /// SIGHUP.
    public static let hangup = SIGHUP

    /// Blocks `signals` in the calling thread (and the threads it starts later).
    public init(_ signals: [Int32]) {
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Blocks until one of the signals arrives and returns it.
    public func wait() -> Int32 {
        var received: Int32 = 0
        var waiting = set
        while sigwait(&waiting, &received) != 0 {}
        return received
    }
}
