/// How a walk over messages or attributes ended.
public enum NetlinkWalkResult: Sendable, Equatable {
    /// Every item was read and every callback said `.ok`.
    case complete
    /// A callback said `.stop`.
    case stopped
    /// A callback said `.error`.
    case failed
    /// A header did not fit: a length below the header size or beyond the buffer, or bytes
    /// left over that are too few for a header. Nothing past it was read.
    case malformed
}
