/// Errors of the conntrack (ctnetlink) interface: which operation, and the errno.
public enum ConntrackError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed (`socket`, `bind`, `setsockopt`, `send`, `recv`).
    case syscall(String, Errno)
    /// The kernel answered a request with an error (EPERM without CAP_NET_ADMIN; the
    /// ctnetlink module missing shows as a failed request too).
    case kernelRefused(operation: String, Errno)
    /// The kernel did not answer in time.
    case noAnswer(operation: String)
    /// The kernel's answer could not be read.
    case malformed(String)

    public var description: String {
        switch self {
        case .syscall(let call, let errno):
            return "conntrack: \(call) failed: \(errno)"
        case .kernelRefused(let operation, let errno):
            var text = "conntrack: kernel refused \(operation): \(errno)"
            if errno == .notPermitted { text += "; ctnetlink needs root or CAP_NET_ADMIN" }
            return text
        case .noAnswer(let operation):
            return "conntrack: no answer from the kernel to \(operation)"
        case .malformed(let what):
            return "conntrack: unreadable answer from the kernel: \(what)"
        }
    }
}
