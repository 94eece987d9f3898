#if canImport(Glibc)
import Glibc
#endif

/// An errno value with a readable description (`strerror`).
public struct Errno: Error, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    public var description: String { "\(String(cString: strerror(rawValue))) (errno \(rawValue))" }

    public static let permissionDenied = Errno(EPERM)
    public static let busy = Errno(EBUSY)
    public static let noBufferSpace = Errno(ENOBUFS)
    public static let noMemory = Errno(ENOMEM)
    public static let tryAgain = Errno(EAGAIN)
    public static let interrupted = Errno(EINTR)

    /// Errors after which the same send may succeed a moment later (no buffer or memory for
    /// the message now, a full or interrupted send).
    public var isTransient: Bool {
        self == .noBufferSpace || self == .noMemory || self == .tryAgain || self == .interrupted
            || rawValue == EWOULDBLOCK
    }
}

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
            return "\(call) failed: \(errno)"
        case .kernelRefused(let queue, let operation, let errno):
            var text = "kernel refused \(operation) on NFQUEUE \(queue): \(errno)"
            if errno == .permissionDenied {
                text += "; binding a queue needs root or CAP_NET_ADMIN"
            } else if errno == .busy {
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
