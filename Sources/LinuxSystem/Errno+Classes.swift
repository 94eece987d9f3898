import SystemPackage

extension Errno {
    /// An errno from a raw code (a kernel answer, a libc return value).
    @inlinable
    public init(_ code: Int32) { self.init(rawValue: code) }

    /// Errors after which the same call may succeed a moment later: no buffer or memory for
    /// it now, a full or interrupted operation (ENOBUFS, ENOMEM, EAGAIN/EWOULDBLOCK, EINTR).
    public var isTransient: Bool {
        self == .noBufferSpace || self == .noMemory || self == .resourceTemporarilyUnavailable
            || self == .wouldBlock || self == .interrupted
    }
}
