#if canImport(Glibc)
    import Glibc
#endif

/// Facts about the running process and the few process-wide calls the commands make, so
/// that no target above this one calls libc for them.
public enum CurrentProcess {
    /// The process id: getpid(2).
    public static var id: Int32 { getpid() }

    /// The effective user id: geteuid(2). 0 is root.
    public static var effectiveUserID: UInt32 { geteuid() }

    /// The network namespace of process `pid` (this process when nil), as its
    /// /proc/PID/ns/net link reads ("net:[4026531840]"); nil when it cannot be read.
    public static func networkNamespace(of pid: Int32? = nil) -> String? {
        let path = "/proc/\(pid.map(String.init) ?? "self")/ns/net"
        var buffer = [CChar](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBufferPointer { readlink(path, $0.baseAddress!, $0.count - 1) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Clock ticks per second (sysconf(_SC_CLK_TCK)), the unit of /proc's times; 100 when
    /// the system does not say.
    public static var clockTicksPerSecond: Int {
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return ticks > 0 ? ticks : 100
    }

    /// Nanoseconds of CLOCK_MONOTONIC since an arbitrary start: clock_gettime(2), one vDSO
    /// call (~20 ns). For timing windows shorter than `ContinuousClock`'s arithmetic allows.
    @inline(__always)
    public static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// The calling thread's context switches so far (getrusage(2), RUSAGE_THREAD):
    /// involuntary (preempted) and voluntary (it blocked).
    public static func threadContextSwitches() -> (involuntary: Int, voluntary: Int) {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD (1), a macro Swift does not import
        return (usage.ru_nivcsw, usage.ru_nvcsw)
    }

    /// The value of environment variable `name`, or nil: getenv(3).
    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Writes `text` and a newline to standard error in one write(2) (no shared FILE state).
    public static func printError(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }

    /// Ends the process with `status`: exit(3), after flushing standard output.
    public static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }

    /// Lets another runnable thread run on this CPU: sched_yield(2). For spin-waits that
    /// outlast a few turns.
    public static func yieldThread() {
        sched_yield()
    }

    /// Blocks the signals `numbers` in the calling thread, so every thread started from it
    /// inherits the mask: no handler runs at an arbitrary point, and a signal that arrives
    /// before its reader (e.g. a signalfd) is ready stays pending. Call it before any thread
    /// starts.
    public static func blockSignals(_ numbers: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for number in numbers { sigaddset(&set, number) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Ignores SIGPIPE: a write to a closed pipe or socket then fails with EPIPE instead of
    /// ending the process.
    public static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Writes all of `text` to standard output with write(2) (no buffering, EINTR retried).
    /// When the reader has gone (EPIPE: `exitblock ... | head -1` after head exited), the
    /// output is over: the process ends as Unix tools do, by SIGPIPE (exit status 141 in a
    /// shell), quietly. Other write errors are ignored, as stdio would.
    public static func writeStandardOutput(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    if written < 0 && errno == EPIPE { endOnClosedOutput() }
                    return
                }
            }
        }
    }

    /// Ends the process by SIGPIPE (default action restored, unblocked in this thread, raised),
    /// the way a tool ends whose output pipe was closed; `_exit(141)` should the signal not end it.
    public static func endOnClosedOutput() -> Never {
        signal(SIGPIPE, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(SIGPIPE)
        _exit(128 + SIGPIPE)
    }

    /// Sends SIGTERM to this process, as a service manager would to stop it.
    public static func requestTermination() {
        kill(getpid(), SIGTERM)
    }
}
