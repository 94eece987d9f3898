import Dispatch
import Synchronization

/// Runs async work from a plain thread (the main thread of `run`, which must stay outside the
/// concurrency pool to `sigwait`) and waits for it.
enum Blocking {
    static func wait<T: Sendable, E: Error>(_ work: @escaping @Sendable () async throws(E) -> T) throws(E) -> T {
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
