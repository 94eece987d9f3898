import Foundation
import LinuxSystem
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ServiceNotifierTests {
    @Test func encodingIsKeyValueLines() {
        #expect(
            ServiceNotifier.encode([("READY", "1"), ("STATUS", "judging\nqueue 0")])
                == "READY=1\nSTATUS=judging queue 0"
        )
    }

    @Test func watchdogIntervalFromTheEnvironment() {
        #expect(ServiceNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "10000000"], pid: 7) == .seconds(10))
        #expect(
            ServiceNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "500", "WATCHDOG_PID": "7"], pid: 7)
                == .microseconds(500)
        )
        #expect(
            ServiceNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "500", "WATCHDOG_PID": "8"], pid: 7) == nil
        )
        #expect(ServiceNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "0"], pid: 7) == nil)
        #expect(ServiceNotifier.watchdogInterval(environment: [:], pid: 7) == nil)
    }

    @Test func badAddressesAreRefused() {
        #expect(throws: ServiceError.self) { try ServiceNotifier(address: "relative/path") }
        #expect(throws: ServiceError.self) { try ServiceNotifier(address: "@") }
        #expect(throws: ServiceError.self) { try ServiceNotifier(address: "/" + String(repeating: "x", count: 200)) }
    }

    /// Sends to a real datagram socket bound at a path, and at an abstract name.
    @Test(arguments: ["path", "abstract"])
    func sendsOneDatagram(kind: String) throws {
        let name =
            kind == "path"
            ? NSTemporaryDirectory() + "eb-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            : "@eb-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(receiver >= 0)
        defer {
            close(receiver)
            if kind == "path" { unlink(name) }
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if kind == "abstract" { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (kind == "path" ? 1 : 0))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(receiver, $0, length) }
        }
        #expect(bound == 0)

        let notifier = try ServiceNotifier(address: name)
        try notifier.send([("READY", "1"), ("STATUS", "ok")])
        var buffer = [UInt8](repeating: 0, count: 256)
        let received = buffer.withUnsafeMutableBytes { recv(receiver, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        #expect(received > 0)
        #expect(String(decoding: buffer.prefix(max(0, received)), as: UTF8.self) == "READY=1\nSTATUS=ok")
    }
}
