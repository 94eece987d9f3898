import Synchronization
import SystemPackage

/// A small kernel text file (procfs), read whole through swift-system's FileDescriptor.
///
/// Kept open (`init`), each read starts again at offset 0, where the kernel's seq_file
/// generates the text anew. Opened while the process may still read it (the NFQUEUE table is
/// mode 0440 root), it stays readable after privileges are dropped.
public final class ProcFile: Sendable {
    private let descriptor: Mutex<FileDescriptor>

    /// Opens `path` read-only; nil when it cannot be opened.
    public init?(_ path: String) {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) else { return nil }
        descriptor = Mutex(fd)
    }

    deinit { descriptor.withLock { try? $0.close() } }

    /// The whole file now, up to about `limit` bytes; nil when reading fails.
    public func read(limit: Int = 1 << 20) -> [UInt8]? {
        descriptor.withLock { fd -> [UInt8]? in
            guard (try? fd.seek(offset: 0, from: .start)) == 0 else { return nil }
            return Self.readToEnd(fd, limit: limit)
        }
    }

    /// Opens, reads and closes `path`; nil when it cannot be opened or read.
    public static func read(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) else { return nil }
        return (try? fd.closeAfter { readToEnd(fd, limit: limit) }) ?? nil
    }

    /// Reads from the current offset to the end (EINTR retried by swift-system).
    private static func readToEnd(_ fd: FileDescriptor, limit: Int) -> [UInt8]? {
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while contents.count < limit {
            guard let count = try? chunk.withUnsafeMutableBytes({ try fd.read(into: $0) }) else { return nil }
            guard count > 0 else { break }
            contents += chunk[0..<count]
        }
        return contents
    }
}
