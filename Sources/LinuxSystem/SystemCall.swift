import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The one place where a libc call's -1 and errno become an error, with EINTR retried, as
/// swift-system's `valueOrErrno` and swift-nio's `syscall` do.
public enum SystemCall {
    /// Calls `body` until it does not fail with EINTR; returns its result as is.
    @inlinable
    public static func retryingInterrupts<T: BinaryInteger>(_ body: () -> T) -> T {
        while true {
            let result = body()
            if result < 0 && errno == EINTR { continue }
            return result
        }
    }

    /// Calls `body` (EINTR retried); a negative result becomes the errno it left.
    @inlinable
    public static func result<T: BinaryInteger>(_ body: () -> T) -> Result<T, Errno> {
        let value = retryingInterrupts(body)
        return value >= 0 ? .success(value) : .failure(Errno(rawValue: errno))
    }

    /// The errno the last failed call left, as swift-system's type.
    @inlinable
    public static var lastError: Errno { Errno(rawValue: errno) }
}
