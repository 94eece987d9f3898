import Daemon

extension DaemonError {
    /// The exit status for this error: a list or allowlist that cannot be used is the
    /// operator's input (`Status.failure`); the rest is 1.
    var exitCode: Int32 {
        switch self {
        case .allowlist, .lists: return Status.failure
        case .service, .queues, .stats, .privileges, .running: return 1
        }
    }
}
