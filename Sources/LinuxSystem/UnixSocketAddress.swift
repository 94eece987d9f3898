import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// An AF_UNIX socket address (struct sockaddr_un), built and checked once: a filesystem path,
/// or an abstract name written with a leading "@" (sent as a leading NUL byte).
public struct UnixSocketAddress: Sendable, CustomStringConvertible {
    /// The address as given ("/run/exitblock/stats.sock", "@name").
    public let description: String
    /// sun_path's bytes: the path, or a NUL and the abstract name.
    private let pathBytes: [UInt8]

    /// Throws ENAMETOOLONG when the path does not fit sun_path (107 bytes and a NUL), EINVAL
    /// when it is empty.
    public init(_ address: String) throws(Errno) {
        var bytes = Array(address.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard !bytes.isEmpty, bytes != [0] else { throw .invalidArgument }
        guard bytes.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else { throw .fileNameTooLong }
        description = address
        pathBytes = bytes
    }

    /// Whether the address names the abstract namespace.
    public var isAbstract: Bool { pathBytes.first == 0 }

    /// Calls `body` with the address as a `sockaddr` and its length (a path with its
    /// terminating NUL, an abstract name exactly its bytes).
    public func withSocketAddress<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let pathLength = isAbstract ? pathBytes.count : pathBytes.count + 1
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathLength)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// Connects `descriptor` (an AF_UNIX socket) to this address; EINTR is retried.
    public func connect(_ descriptor: Int32) -> Result<Void, Errno> {
        withSocketAddress { address, length in
            SystemCall.result { Glibc.connect(descriptor, address, length) }.map { _ in () }
        }
    }

    /// Whether a process accepts connections at this address: a connect from a new stream
    /// socket succeeds.
    public var hasListener: Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { Glibc.close(descriptor) }
        return (try? connect(descriptor).get()) != nil
    }
}
