internal import CLinuxSystem

#if canImport(Glibc)
    import Glibc
#endif

/// A detached POSIX thread that runs one closure: pthread_create(3), named with prctl(2)
/// PR_SET_NAME.
/// What Foundation's `Thread` did for the engine's workers and pollers, without linking
/// Foundation (and its ICU data) into the binary.
public enum SystemThread {
    /// The longest name the kernel keeps (16 bytes with the terminating NUL).
    public static let maximumNameLength = 15

    /// Starts a detached thread named `name` (cut to `maximumNameLength` bytes; it shows in
    /// /proc/PID/task/TID/comm and `top -H`) that runs `body` and ends. Ends the process if
    /// no thread can be created (EAGAIN: the thread limit), as `Thread.start` did.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(body, name: name)).toOpaque()
        var thread = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let result = pthread_create(
            &thread,
            &attributes,
            { argument in
                guard let argument else { return nil }
                let body = Unmanaged<Body>.fromOpaque(argument).takeRetainedValue()
                _ = body.name.withCString { clsys_prctl(PR_SET_NAME, UInt(bitPattern: $0), 0) }
                body.run()
                return nil
            },
            box
        )
        pthread_attr_destroy(&attributes)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            fatalError("pthread_create(\(name)) failed: error \(result)")
        }
    }

    /// Blocks the calling thread for `seconds` (nanosleep(2), resumed after a signal).
    public static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        let whole = seconds.rounded(.towardZero)
        var request = timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR {
            request = remaining
        }
    }

    /// The closure and the name, handed to the new thread through pthread_create's argument.
    private final class Body {
        let run: @Sendable () -> Void
        let name: String

        init(_ run: @escaping @Sendable () -> Void, name: String) {
            self.run = run
            self.name = String(decoding: name.utf8.prefix(SystemThread.maximumNameLength), as: UTF8.self)
        }
    }
}
