import LinuxSystem
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The path calls swift-system lacks: each error an `Errno`, the rest as the kernel did it.
@Suite struct FileSystemTests {
    private static func temporaryDirectory() -> String {
        var template = Array("/tmp/exitblock-fs-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    @Test func directoriesAreMadeWithTheirParents() throws {
        let root = Self.temporaryDirectory()
        #expect(FileSystem.makeDirectories(root + "/a/b/c") == nil)
        #expect(try FilePath(root + "/a/b/c").stat().type == .directory)
        // Again: what exists is fine.
        #expect(FileSystem.makeDirectories(root + "/a/b/c") == nil)
        #expect(throws: Errno.fileExists) { try FileSystem.makeDirectory(root + "/a") }
        let file = root + "/file"
        let descriptor = try FileDescriptor.open(
            FilePath(file),
            .writeOnly,
            options: [.create],
            permissions: .ownerReadWrite
        )
        try descriptor.close()
        #expect(FileSystem.makeDirectories(file + "/below")?.error == .notDirectory)
    }

    @Test func renameRemoveAndPermissions() throws {
        let root = Self.temporaryDirectory()
        let path = root + "/one"
        let descriptor = try FileDescriptor.open(
            FilePath(path),
            .writeOnly,
            options: [.create],
            permissions: .ownerReadWrite
        )
        _ = try descriptor.writeAll("x".utf8)
        try FileSystem.sync(descriptor)
        try descriptor.close()
        try FileSystem.setPermissions(path, [.ownerRead, .groupRead])
        #expect(try FilePath(path).stat().permissions == [.ownerRead, .groupRead])
        try FileSystem.rename(path, to: root + "/two")
        #expect(throws: Errno.noSuchFileOrDirectory) { try FilePath(path).stat() }
        try FileSystem.remove(root + "/two")
        #expect(throws: Errno.noSuchFileOrDirectory) { try FileSystem.remove(root + "/two") }
        try FileSystem.removeIfPresent(root + "/two")
    }

    @Test func groupsAreLookedUpByName() throws {
        #expect(try FileSystem.groupID(named: "root") == 0)
        #expect(try FileSystem.groupID(named: "no-such-group-exitblock") == nil)
    }

    @Test func processFacts() {
        #expect(CurrentProcess.id == getpid())
        #expect(CurrentProcess.effectiveUserID == geteuid())
        #expect(CurrentProcess.clockTicksPerSecond > 0)
        CurrentProcess.yieldThread()
    }

    @Test func aSocketNobodyListensOnHasNoListener() throws {
        #expect(try !UnixSocketAddress(Self.temporaryDirectory() + "/none.sock").hasListener)
    }
}
