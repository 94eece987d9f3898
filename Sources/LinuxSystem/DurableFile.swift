import Foundation
import SystemPackage

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
        let descriptor = try attempt("open", temporary) {
            try FileDescriptor.open(
                FilePath(temporary),
                .writeOnly,
                options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead]
            )
        }
        do throws(Error) {
            _ = try attempt("write", temporary) { try descriptor.writeAll(bytes) }
            try attempt("fsync", temporary) { try FileSystem.sync(descriptor) }
        } catch {
            try? descriptor.close()
            try? FileSystem.remove(temporary)
            throw error
        }
        try? descriptor.close()
        do throws(Error) {
            try attempt("rename", temporary) { try FileSystem.rename(temporary, to: path) }
        } catch {
            try? FileSystem.remove(temporary)
            throw error
        }
    }

    /// fsyncs a directory, so that renames into it survive a crash.
    public static func syncDirectory(_ path: String) throws(Error) {
        let descriptor = try attempt("open", path) {
            try FileDescriptor.open(FilePath(path), .readOnly, options: [.directory, .closeOnExec])
        }
        defer { try? descriptor.close() }
        try attempt("fsync", path) { try FileSystem.sync(descriptor) }
    }

    /// Creates `path` and its parents (mode 0755) when missing.
    public static func makeDirectory(_ path: String) throws(Error) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw Error(operation: "mkdir", path: path, reason: error.localizedDescription)
        }
    }

    /// Runs one step; its error (an `Errno`) becomes an `Error` naming the step and the path.
    private static func attempt<T>(_ operation: String, _ path: String, _ body: () throws -> T) throws(Error) -> T {
        do {
            return try body()
        } catch {
            throw Error(operation: operation, path: path, reason: "\(error)")
        }
    }
}
