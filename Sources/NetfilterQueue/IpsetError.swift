import LinuxSystem

/// Errors of the ipset netlink interface as a whole (one entry's refusal is an
/// `IpsetClient.Outcome`, not an error): which operation, and the errno.
public enum IpsetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed (`socket`, `bind`, `setsockopt`, `send`, `recv`).
    case syscall(String, Errno)
    /// The kernel did not answer every request in time.
    case noAnswer(operation: String, missing: Int)
    /// The kernel's answer could not be read.
    case malformed(String)

    public var description: String {
        switch self {
        case .syscall(let call, let errno):
            return "ipset: \(call) failed: \(errno)"
        case .noAnswer(let operation, let missing):
            return "ipset: no answer from the kernel to \(missing) request(s) of \(operation)"
        case .malformed(let what):
            return "ipset: unreadable answer from the kernel: \(what)"
        }
    }
}
