import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The path operations swift-system does not have (mkdir, unlink, rename, chmod, chown,
/// fsync, the group database), each a thin wrapper with EINTR retried and errno as `Errno`.
/// Everything else goes through swift-system's `FileDescriptor`, `FilePath` and `Stat`.
public enum FileSystem {
    /// Creates the directory `path` with `permissions` (less the umask). Throws `.fileExists`
    /// when something is already there.
    public static func makeDirectory(_ path: String, permissions: FilePermissions = [.ownerReadWriteExecute])
        throws(Errno)
    {
        _ = try SystemCall.result { mkdir(path, permissions.rawValue) }.get()
    }

    /// Creates `directory` and each missing parent, as `mkdir -p` does (mode 0755 less the
    /// umask). Returns nil, or the component that could not be created and why.
    public static func makeDirectories(_ directory: String) -> (path: String, error: Errno)? {
        var prefix = ""
        for component in directory.split(separator: "/") {
            prefix += (prefix.isEmpty && !directory.hasPrefix("/") ? "" : "/") + component
            do {
                try makeDirectory(prefix, permissions: [.ownerReadWriteExecute, .groupReadExecute, .otherReadExecute])
            } catch  where error == .fileExists {
                continue
            } catch {
                return (prefix, error)
            }
        }
        return nil
    }

    /// Removes the file (or socket, or link) at `path`: unlink(2).
    public static func remove(_ path: String) throws(Errno) {
        _ = try SystemCall.result { unlink(path) }.get()
    }

    /// Removes the file at `path` when it is there; a missing file is not an error.
    public static func removeIfPresent(_ path: String) throws(Errno) {
        do {
            try remove(path)
        } catch  where error == .noSuchFileOrDirectory {
            return
        }
    }

    /// Renames `source` to `destination`, replacing it atomically: rename(2).
    public static func rename(_ source: String, to destination: String) throws(Errno) {
        _ = try SystemCall.result { Glibc.rename(source, destination) }.get()
    }

    /// Sets the permission bits of `path`: chmod(2).
    public static func setPermissions(_ path: String, _ permissions: FilePermissions) throws(Errno) {
        _ = try SystemCall.result { chmod(path, permissions.rawValue) }.get()
    }

    /// Sets the group of `path`, leaving its owner: chown(2) with owner -1.
    public static func setGroup(_ path: String, groupID: UInt32) throws(Errno) {
        _ = try SystemCall.result { chown(path, uid_t.max, groupID) }.get()
    }

    /// Writes the file's data and metadata to the device: fsync(2).
    public static func sync(_ descriptor: FileDescriptor) throws(Errno) {
        _ = try SystemCall.result { fsync(descriptor.rawValue) }.get()
    }

    /// The bytes of the file at `path`, up to `limit` of them (what follows is not read):
    /// open(2) and read(2), EINTR retried.
    public static func readFile(_ path: String, limit: Int) throws(Errno) -> [UInt8] {
        let descriptor = try SystemCall.result { open(path, O_RDONLY | O_CLOEXEC) }.get()
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while contents.count < limit {
            let wanted = min(chunk.count, limit - contents.count)
            let count = try SystemCall.result {
                chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, wanted) }
            }.get()
            guard count > 0 else { break }
            contents += chunk[0..<count]
        }
        return contents
    }

    /// The numeric id of the group `name` (getgrnam_r); nil when there is no such group.
    public static func groupID(named name: String) throws(Errno) -> UInt32? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getgrnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0 else { throw Errno(rawValue: status) }
        return result == nil ? nil : entry.gr_gid
    }
}
