import LinuxSystem
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// One connection to BIRD's control socket (`bird -s PATH`): reads the welcome (0001), sends
/// one command line, reads the reply. What `birdc -s PATH COMMAND` does, without a process.
public enum BIRDControlSocket {
    /// Sends `command` to the BIRD listening at `path` and returns its reply; waits at most
    /// `timeoutSeconds` for each read.
    public static func send(_ command: String, to path: String, timeoutSeconds: Int = 30) throws(Errno) -> BIRDReply {
        let address = try UnixSocketAddress(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCall.lastError }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = address.withSocketAddress { pointer, length in
            SystemCall.retryingInterrupts { connect(fd, pointer, length) }
        }
        guard connected == 0 else { throw SystemCall.lastError }
        var pending = ""[...]
        _ = try readReply(fd, pending: &pending)
        let line = Array((command + "\n").utf8)
        let sent = line.withUnsafeBytes { bytes in
            SystemCall.retryingInterrupts { Glibc.send(fd, bytes.baseAddress, bytes.count, 0) }
        }
        guard sent == line.count else { throw sent < 0 ? SystemCall.lastError : .brokenPipe }
        return try readReply(fd, pending: &pending)
    }

    /// Reads until one whole reply is in `pending`, returns it and keeps what follows it.
    static func readReply(_ fd: Int32, pending: inout Substring) throws(Errno) -> BIRDReply {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let (reply, rest) = BIRDReply.parse(pending) {
                pending = rest
                return reply
            }
            let count = buffer.withUnsafeMutableBytes { raw in
                SystemCall.retryingInterrupts { recv(fd, raw.baseAddress, raw.count, 0) }
            }
            guard count > 0 else { throw count < 0 ? SystemCall.lastError : .connectionReset }
            pending = Substring(String(pending) + String(decoding: buffer[0..<count], as: UTF8.self))
        }
    }
}
