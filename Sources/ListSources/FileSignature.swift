import SystemPackage

/// What `stat` says about a file, enough to notice it changed: device, inode (a file replaced
/// by rename), size, modification time in nanoseconds.
public struct FileSignature: Sendable, Equatable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modified: Int64

    /// The signature of `path`, nil when it cannot be stat'ed.
    public static func of(_ path: String) -> FileSignature? {
        guard let info = try? FilePath(path).stat() else { return nil }
        return FileSignature(
            device: UInt64(info.deviceID.rawValue),
            inode: UInt64(info.inode.rawValue),
            size: info.size,
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        )
    }
}
