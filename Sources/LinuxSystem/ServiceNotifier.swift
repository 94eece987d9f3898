import SystemPackage
#if canImport(Glibc)
    import Glibc
#endif

/// The service manager's notification protocol (sd_notify(3)), without libsystemd: one
/// datagram of "KEY=VALUE" lines per message to the AF_UNIX socket named by $NOTIFY_SOCKET
/// (a path, or an abstract name written with a leading "@").
///
/// Sending is one `sendto` on a socket owned by this object; it may be called from any
/// thread. A failed send is returned, never fatal: the daemon's work does not depend on it.
public final class ServiceNotifier: Sendable {
    /// The socket address as given ("/run/systemd/notify" or "@name").
    public let address: String
    private let descriptor: Int32
    private let socketAddress: UnixSocketAddress

    /// Opens a datagram socket for `address`. Throws when the address is empty or too long.
    public init(address: String) throws(ServiceError) {
        let socketAddress: UnixSocketAddress
        do {
            socketAddress = try UnixSocketAddress(address)
        } catch {
            throw .syscall("NOTIFY_SOCKET=\(address)", error)
        }
        guard socketAddress.isAbstract || address.hasPrefix("/") else {
            throw .syscall("NOTIFY_SOCKET=\(address)", .invalidArgument)
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .syscall("socket(AF_UNIX, SOCK_DGRAM)", Errno(errno)) }
        self.address = address
        self.descriptor = descriptor
        self.socketAddress = socketAddress
    }

    /// The notifier for $NOTIFY_SOCKET, nil when the variable is unset or empty (not under a
    /// service manager that asked for notifications).
    public static func fromEnvironment() throws(ServiceError) -> ServiceNotifier? {
        guard let value = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return try ServiceNotifier(address: value)
    }

    deinit {
        close(descriptor)
    }

    /// Sends `fields` as one datagram.
    public func send(_ fields: [(key: String, value: String)]) throws(ServiceError) {
        try send(text: Self.encode(fields))
    }

    /// Sends `text` ("READY=1\nSTATUS=...") as one datagram.
    public func send(text: String) throws(ServiceError) {
        let payload = Array(text.utf8)
        let sent = socketAddress.withSocketAddress { address, length in
            payload.withUnsafeBytes { bytes in
                SystemCall.retryingInterrupts {
                    sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), address, length)
                }
            }
        }
        guard sent == payload.count else {
            throw .syscall("sendto(\(self.address))", Errno(sent < 0 ? errno : EMSGSIZE))
        }
    }

    /// Sends `fields` with `descriptors` (SCM_RIGHTS) as one datagram: FDSTORE=1 and FDNAME
    /// keep the descriptors in the service manager's store across a restart (sd_pid_notify_with_fds).
    public func send(_ fields: [(key: String, value: String)], descriptors: [Int32]) throws(ServiceError) {
        do {
            try DescriptorPassing.send(
                descriptors,
                message: Array(Self.encode(fields).utf8),
                over: descriptor,
                to: socketAddress
            )
        } catch {
            throw .syscall("sendmsg(\(address), \(descriptors.count) descriptors)", error)
        }
    }

    /// "KEY=VALUE" lines joined by newlines. A newline inside a value would start a new
    /// field, so it becomes a space.
    public static func encode(_ fields: [(key: String, value: String)]) -> String {
        fields.map { field in
            field.key + "=" + String(field.value.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        }.joined(separator: "\n")
    }

    /// The watchdog interval the service manager asked for, from WATCHDOG_USEC (and
    /// WATCHDOG_PID, which must be this process when set); nil when none was asked for.
    public static func watchdogInterval(environment: [String: String], pid: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 else {
            return nil
        }
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty, Int32(owner) != pid { return nil }
        return .microseconds(microseconds)
    }

    /// CLOCK_MONOTONIC now, in microseconds (for RELOADING=1's MONOTONIC_USEC).
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }
}
