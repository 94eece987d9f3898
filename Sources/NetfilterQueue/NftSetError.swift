import LinuxSystem

/// Errors of the nf_tables set-element interface as a whole (one element's refusal is an
/// `IpsetClient.Outcome` code, not an error): which operation, and the errno.
public enum NftSetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed (`socket`, `bind`, `setsockopt`, `send`, `recv`).
    case syscall(String, Errno)
    /// The kernel refused the batch as a whole (its NFNL_MSG_BATCH_BEGIN), with this errno (EPERM...).
    case batchRefused(operation: String, code: Int32)
    /// The kernel did not answer every request in time.
    case noAnswer(operation: String, missing: Int)
    /// The kernel's answer could not be read.
    case malformed(String)

    public var description: String {
        switch self {
        case .syscall(let call, let errno):
            return "nf_tables: \(call) failed: \(errno)"
        case .batchRefused(let operation, let code):
            return "nf_tables: the kernel refused the batch of \(operation): \(Errno(code))"
        case .noAnswer(let operation, let missing):
            return "nf_tables: no answer from the kernel to \(missing) request(s) of \(operation)"
        case .malformed(let what):
            return "nf_tables: unreadable answer from the kernel: \(what)"
        }
    }
}
