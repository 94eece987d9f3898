import LinuxSystem

/// The kernel's table of bound queues, /proc/net/netfilter/nfnetlink_queue, as one value the
/// daemon owns (no global state): opened at `init` and kept open, so that it can still be
/// read after the process drops root (the table is mode 0440 root).
public final class KernelQueueTable: Sendable {
    /// The table's location.
    public static let path = "/proc/net/netfilter/nfnetlink_queue"

    private let kept: ProcFile?

    /// Opens the table now; create it before lowering privileges.
    public init() {
        kept = ProcFile(Self.path)
    }

    /// Whether the table could be opened (and so stays readable after a privilege drop).
    public var isOpen: Bool { kept != nil }

    /// The queues bound now, or nil when the table cannot be read (absent, or not readable
    /// by this user and not opened before a privilege drop).
    public func read() -> [KernelQueueFigures]? {
        guard let bytes = kept?.read() ?? ProcFile.read(Self.path) else { return nil }
        return KernelQueueFigures.parse(String(decoding: bytes, as: UTF8.self))
    }

    /// The queues bound now, opening the table for this one read; nil when it cannot be read.
    public static func readNow() -> [KernelQueueFigures]? {
        ProcFile.read(path).map { KernelQueueFigures.parse(String(decoding: $0, as: UTF8.self)) }
    }
}
