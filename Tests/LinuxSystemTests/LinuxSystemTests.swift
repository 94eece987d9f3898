import LinuxSystem
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct LinuxSystemTests {
    @Test func aFailedCallBecomesItsErrno() {
        #expect(SystemCall.result { close(-1) } == .failure(.badFileDescriptor))
        #expect(SystemCall.result { Int32(7) } == .success(7))
    }

    @Test func interruptedCallsAreRetried() {
        var calls = 0
        let result = SystemCall.result { () -> Int32 in
            calls += 1
            guard calls < 3 else { return 0 }
            errno = EINTR
            return -1
        }
        #expect(result == .success(0))
        #expect(calls == 3)
    }

    /// swift-system's names: EPERM is notPermitted (EACCES is permissionDenied).
    @Test func errnoNames() {
        #expect(Errno(EPERM) == .notPermitted)
        #expect(Errno(EBUSY) == .resourceBusy)
        #expect(Errno(ENOBUFS).isTransient && Errno(EAGAIN).isTransient && Errno(EINTR).isTransient)
        #expect(Errno(ENOMEM).isTransient)
        #expect(!Errno(EPERM).isTransient && !Errno(EMSGSIZE).isTransient)
    }

    @Test func procFilesReadWholeAndAgain() throws {
        let once = try #require(ProcFile.read("/proc/self/status"))
        #expect(String(decoding: once, as: UTF8.self).hasPrefix("Name:"))
        let kept = try #require(ProcFile("/proc/self/status"))
        let first = try #require(kept.read())
        let second = try #require(kept.read())
        #expect(String(decoding: first, as: UTF8.self).hasPrefix("Name:"))
        #expect(String(decoding: second, as: UTF8.self).hasPrefix("Name:"))
        #expect(ProcFile("/proc/no/such/file") == nil)
        #expect(ProcFile.read("/proc/no/such/file") == nil)
    }

    @Test func pinningChecksTheCPU() throws {
        #expect(throws: ServiceError.self) { try CPUAffinity.pinCurrentThread(toCPU: -1) }
        #expect(throws: ServiceError.self) { try CPUAffinity.pinCurrentThread(toCPU: 100_000) }
    }

    @Test func unixSocketAddresses() throws {
        let path = try UnixSocketAddress("/run/x.sock")
        #expect(!path.isAbstract)
        path.withSocketAddress { _, length in #expect(Int(length) == 2 + 11 + 1) }
        let abstract = try UnixSocketAddress("@name")
        #expect(abstract.isAbstract)
        abstract.withSocketAddress { _, length in #expect(Int(length) == 2 + 5) }
        #expect(throws: Errno.fileNameTooLong) { try UnixSocketAddress("/" + String(repeating: "a", count: 107)) }
        #expect(throws: Errno.invalidArgument) { try UnixSocketAddress("") }
        #expect(throws: Errno.invalidArgument) { try UnixSocketAddress("@") }
        let nobody = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(nobody) }
        let result = try UnixSocketAddress("/nonexistent/exitblock.sock").connect(nobody)
        #expect(throws: Errno.noSuchFileOrDirectory) { try result.get() }
    }
}
