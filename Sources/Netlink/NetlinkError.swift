import LinuxSystem
import SystemPackage

/// The one error of netlink requests (queue configuration aside): a system call that failed,
/// a request the kernel refused, an answer that did not come or could not be read. Which
/// operation is named by the client ("ipset add", "conntrack delete", "nf_tables flush").
public enum NetlinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed (`socket`, `bind`, `setsockopt`, `send`, `recv`).
    case syscall(String, Errno)
    /// The kernel answered a request (or a batch as a whole) with this errno.
    case kernelRefused(operation: String, Errno)
    /// The kernel did not answer `missing` requests in time.
    case noAnswer(operation: String, missing: Int)
    /// The kernel's answer could not be read.
    case malformed(String)

    public var description: String {
        switch self {
        case .syscall(let call, let errno):
            return "netlink: \(call) failed: \(errno)"
        case .kernelRefused(let operation, let errno):
            var text = "netlink: the kernel refused \(operation): \(errno)"
            if errno == .notPermitted { text += "; it needs root or CAP_NET_ADMIN" }
            return text
        case .noAnswer(let operation, let missing):
            return "netlink: no answer from the kernel to \(missing) request(s) of \(operation)"
        case .malformed(let what):
            return "netlink: unreadable answer from the kernel: \(what)"
        }
    }
}
