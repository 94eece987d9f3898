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
    private let addressBytes: [UInt8]

    /// Opens a datagram socket for `address`. Throws when the address is empty or too long.
    public init(address: String) throws(ServiceError) {
        var bytes = Array(address.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        guard bytes.count > 1, bytes.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path),
            bytes.first == 0 || bytes.first == UInt8(ascii: "/")
        else { throw .syscall("NOTIFY_SOCKET=\(address)", Errno(EINVAL)) }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .syscall("socket(AF_UNIX, SOCK_DGRAM)", Errno(errno)) }
        self.address = address
        self.descriptor = descriptor
        self.addressBytes = bytes
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
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: addressBytes) }
        // A path is passed with its terminating zero; an abstract name is exactly its bytes.
        let pathLength = addressBytes.first == 0 ? addressBytes.count : addressBytes.count + 1
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathLength)
        let payload = Array(text.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                payload.withUnsafeBytes { bytes in
                    sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        guard sent == payload.count else {
            throw .syscall("sendto(\(self.address))", Errno(sent < 0 ? errno : EMSGSIZE))
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
