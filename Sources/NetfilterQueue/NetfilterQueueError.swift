import LinuxSystem
import SystemPackage

/// swift-system's errno type (EPERM is `.notPermitted`, EBUSY `.resourceBusy`); the
/// name stays for this module's users.
public typealias Errno = SystemPackage.Errno

/// Errors of the NetfilterQueue module: which operation failed, on which queue, and the errno.
public enum NetfilterQueueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed (`socket`, `bind`, `setsockopt`, `recvmmsg`, `send`).
    case syscall(String, Errno)
    /// The kernel refused a queue configuration message (for example EPERM without
    /// CAP_NET_ADMIN, EBUSY when another process holds the queue).
    case kernelRefused(queue: UInt16, operation: String, Errno)
    /// The kernel did not acknowledge a configuration message in time.
    case noAcknowledgement(queue: UInt16, operation: String)
    /// The queue is bound by another netlink socket (the kernel answers EPERM for that too).
    case queueTaken(queue: UInt16, portID: UInt32)
    /// A send took fewer bytes than it was given (netlink sends are whole or nothing; a
    /// short one is treated as failed).
    case partialSend(String, sent: Int, of: Int)
    /// A configuration value is out of range; names the field.
    case invalidConfiguration(field: String, reason: String)

    public var description: String {
        switch self {
        case .syscall(let call, let errno):
            return "\(call) failed: \(errno) (errno \(errno.rawValue))"
        case .kernelRefused(let queue, let operation, let errno):
            var text = "kernel refused \(operation) on NFQUEUE \(queue): \(errno) (errno \(errno.rawValue))"
            if errno == .notPermitted {
                text += "; binding a queue needs root or CAP_NET_ADMIN"
            } else if errno == .resourceBusy {
                text += "; another process has already bound queue \(queue)"
            }
            return text
        case .queueTaken(let queue, let portID):
            return "NFQUEUE \(queue) is already bound by another process (netlink port id \(portID)); "
                + "stop it or choose another --queue"
        case .noAcknowledgement(let queue, let operation):
            return "no answer from the kernel to \(operation) on NFQUEUE \(queue)"
        case .partialSend(let call, let sent, let total):
            return "\(call) sent \(sent) of \(total) bytes"
        case .invalidConfiguration(let field, let reason):
            return "invalid queue configuration: \(field): \(reason)"
        }
    }
}
