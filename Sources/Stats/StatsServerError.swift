import SystemPackage

/// Why the stats server could not start.
public enum StatsServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another process answers on the socket path.
    case socketInUse(path: String)
    /// Something that is not a socket sits at the path; it is left alone.
    case notASocket(path: String)
    /// A system call on the path failed.
    case system(call: String, path: String, errno: Errno)
    /// `--stats-socket-group` names no group.
    case unknownGroup(String)
    /// `--metrics-listen` is not HOST:PORT.
    case badListenAddress(String)
    /// Binding failed (address in use, not available, ...).
    case bind(address: String, reason: String)

    public var description: String {
        switch self {
        case .socketInUse(let path): return "stats socket \(path): another process is listening on it"
        case .notASocket(let path): return "stats socket \(path): a file that is not a socket is in the way"
        case .system(let call, let path, let code):
            return "stats socket \(path): \(call): \(code)"
        case .unknownGroup(let name): return "stats socket group \(name): no such group"
        case .badListenAddress(let text):
            return "metrics listen address \(text): expected HOST:PORT, [IPV6]:PORT or PORT"
        case .bind(let address, let reason): return "cannot listen on \(address): \(reason)"
        }
    }
}
