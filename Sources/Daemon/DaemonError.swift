import Engine
import LinuxSystem
import NetfilterQueue
import ListSources
import Stats

/// Why the daemon did not start, or why it stopped without being asked: the step that failed
/// and its error. Everything started before it has been undone when this is thrown.
public enum DaemonError: Error, CustomStringConvertible {
    /// `--user` names no user (the service manager's socket is only reported).
    case service(ServiceError)
    /// Binding a queue failed (taken by another process, no CAP_NET_ADMIN).
    case queues(NetfilterQueueError)
    /// The stats socket or TCP listener could not be opened.
    case stats(StatsServerError)
    /// Lowering the capabilities or switching to `--user` failed.
    case privileges(ServiceError)
    /// An allowlist file could not be read or parsed.
    case allowlist(ListLoadError)
    /// No list could be had, from its source or the disk cache.
    case lists(SourceStartError)
    /// A service of the running daemon failed (not a signal).
    case running(any Error)

    public var description: String {
        switch self {
        case .service(let error): return "\(error); not starting"
        case .queues(let error): return "\(error); not starting"
        case .stats(let error): return "\(error); not starting"
        case .privileges(let error): return "cannot lower privileges: \(error); not starting"
        case .allowlist(let error): return "allowlist: \(error); not starting"
        case .lists(let error): return "\(error); not starting"
        case .running(let error): return "\(error); stopped"
        }
    }
}
