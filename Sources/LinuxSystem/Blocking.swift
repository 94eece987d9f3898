import Dispatch
import Synchronization

/// Runs async work from a plain thread (the main thread of `run`, which must stay outside the
/// concurrency pool to `sigwait`, and the process runner's callers) and waits for it.
public enum Blocking {
    /// Runs `work` in a task of its own and blocks this thread until it is done: the bridge
    /// from synchronous callers to async APIs. Never call it from a task of the cooperative pool.
    public static func wait<T: Sendable, E: Error>(_ work: @escaping @Sendable () async throws(E) -> T) throws(E) -> T {
        let box = ResultBox<T, E>()
        Task.detached {
            let outcome: Result<T, E>
            do throws(E) {
                outcome = .success(try await work())
            } catch {
                outcome = .failure(error)
            }
            box.result.withLock { $0 = outcome }
            box.done.signal()
        }
        box.done.wait()
        // The task stored a result before signalling.
        return try box.result.withLock { $0! }.get()
    }
}

private final class ResultBox<T: Sendable, E: Error>: Sendable {
    let result = Mutex<Result<T, E>?>(nil)
    let done = DispatchSemaphore(value: 0)
}
