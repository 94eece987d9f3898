import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a file so that after a crash or power loss it holds either its old or its new
/// content, never a mix: the bytes go to a temporary file in the same directory, which is
/// fsynced and renamed over the target; `syncDirectory` then makes the rename itself durable.
/// The only file system calls of the source cache live here.
public enum DurableFile {
    /// Why a write failed: the operation, the path and the system's message.
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var operation: String
        public var path: String
        public var reason: String
        public var description: String { "\(operation) \(path): \(reason)" }
    }

    /// Replaces `path` with `bytes` (temporary file, fsync, rename). Mode 0644.
    public static func write(_ bytes: [UInt8], to path: String) throws(Error) {
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Error(operation: "open", path: temporary, reason: lastError()) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let reason = lastError()
                close(descriptor)
                unlink(temporary)
                throw Error(operation: "write", path: temporary, reason: reason)
            }
            written += count
        }
        guard fsync(descriptor) == 0 else {
            let reason = lastError()
            close(descriptor)
            unlink(temporary)
            throw Error(operation: "fsync", path: temporary, reason: reason)
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let reason = lastError()
            unlink(temporary)
            throw Error(operation: "rename", path: temporary, reason: reason)
        }
    }

    /// fsyncs a directory, so that renames into it survive a crash.
    public static func syncDirectory(_ path: String) throws(Error) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Error(operation: "open", path: path, reason: lastError()) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Error(operation: "fsync", path: path, reason: lastError()) }
    }

    /// Creates `path` and its parents (mode 0755) when missing.
    public static func makeDirectory(_ path: String) throws(Error) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw Error(operation: "mkdir", path: path, reason: error.localizedDescription)
        }
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
