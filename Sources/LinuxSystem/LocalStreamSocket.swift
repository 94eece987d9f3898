import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// An AF_UNIX stream socket at a filesystem path, owned (`deinit` closes it): a listener
/// (`listen(at:)`, `accept`) or a connection (`connect(to:)`, `accepted`), whose messages may
/// carry descriptors (see `DescriptorPassing`). Every wait is bounded by a timeout. Used by
/// the restart hand-over; not on any hot path.
public final class LocalStreamSocket: Sendable {
    public let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        Glibc.close(descriptor)
    }

    private static func open() throws(Errno) -> Int32 {
        try SystemCall.result { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
            .get()
    }

    /// Listens at `path` with file mode `mode` (set before anyone can connect: the socket is
    /// made under a umask that leaves only `mode`). A socket file nobody listens on is
    /// replaced; a live one is refused with EADDRINUSE.
    public static func listen(at path: String, mode: mode_t = 0o600) throws(Errno) -> LocalStreamSocket {
        let address = try UnixSocketAddress(path)
        if address.hasListener { throw .addressInUse }
        try FileSystem.removeIfPresent(path)
        let listener = LocalStreamSocket(descriptor: try open())
        let previous = umask(~mode & 0o777)
        let bound = address.withSocketAddress { pointer, length in
            SystemCall.result { bind(listener.descriptor, pointer, length) }
        }
        umask(previous)
        _ = try bound.get()
        _ = try SystemCall.result { Glibc.listen(listener.descriptor, 4) }.get()
        return listener
    }

    /// Connects to the listener at `path`; ECONNREFUSED or ENOENT when nobody listens.
    public static func connect(to path: String) throws(Errno) -> LocalStreamSocket {
        let address = try UnixSocketAddress(path)
        let connection = LocalStreamSocket(descriptor: try open())
        try address.connect(connection.descriptor).get()
        return connection
    }

    /// Waits at most `milliseconds` until the socket can be read (a connection to accept, a
    /// message, or the peer's close).
    public func waitReadable(milliseconds: Int32) throws(Errno) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return try SystemCall.result { poll(&entry, 1, milliseconds) }.get() > 0
    }

    /// The next connection, or nil when none came within `milliseconds`.
    public func accept(milliseconds: Int32) throws(Errno) -> LocalStreamSocket? {
        guard try waitReadable(milliseconds: milliseconds) else { return nil }
        // accept4 needs _GNU_SOURCE, which Glibc's module does not define: accept, then FD_CLOEXEC.
        let connection = try SystemCall.result { Glibc.accept(descriptor, nil, nil) }.get()
        let accepted = LocalStreamSocket(descriptor: connection)
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        return accepted
    }

    /// The user id of the connected peer (SO_PEERCRED).
    public func peerUserID() throws(Errno) -> UInt32 {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (a _GNU_SOURCE type).
        var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        _ = try SystemCall.result { getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) }.get()
        return credentials.uid
    }

    /// Sends `message` with `descriptors`.
    public func send(_ message: [UInt8], descriptors: [Int32] = []) throws(Errno) {
        try DescriptorPassing.send(descriptors, message: message, over: descriptor)
    }

    /// One message and its descriptors, waiting at most `milliseconds`; nil on the timeout.
    /// An empty message: the peer closed the connection.
    public func receive(milliseconds: Int32) throws(Errno) -> (message: [UInt8], descriptors: [Int32])? {
        guard try waitReadable(milliseconds: milliseconds) else { return nil }
        return try DescriptorPassing.receive(over: descriptor)
    }
}
