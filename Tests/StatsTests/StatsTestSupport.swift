import Engine
import Foundation
import Stats

#if canImport(Glibc)
    import Glibc
#endif

/// A fixed snapshot for the stats tests: two queues (one unbound for 2.5 s unless `bound`), one
/// source, one refusal.
enum StatsFixture {
    /// The fixture's one source: three good fetches, two 304s, the last one a 304.
    static var source: StatsRecorder.Source {
        var source = StatsRecorder.Source(
            path: "/etc/exitblock/\"exits\".txt",
            ipv4Entries: 1200,
            ipv6Entries: 34,
            lastRefresh: 1_700_000_040.5,
            lastRefreshOK: true
        )
        source.format = "plain"
        source.lastResult = "not_modified"
        source.lastSuccess = 1_700_000_040.5
        source.results = ["ok": 3, "not_modified": 2]
        return source
    }

    static func snapshot(bound: Bool = true) -> MetricsSnapshot {
        var values = CounterValues()
        values[.packets, .ipv4] = 10
        values[.packets, .ipv6] = 8
        values[.packets, .unparsable] = 2
        values[.accepted] = 12
        values[.dropped, .ipv4] = 3
        values[.dropped, .ipv6] = 2
        values[.dropped, .unparsable] = 1
        values[.rejected, .ipv4] = 1
        values[.rejected, .ipv6] = 1
        values[.allowlisted, .ipv4] = 2
        values[.allowlisted, .ipv6] = 1
        values[.rejectReturned] = 1
        values[.bursts1] = 2
        values[.bursts4To7] = 1
        values[.bursts8To15] = 1
        values[.enobufs] = 1
        var quiet = CounterValues()
        quiet[.sendErrors] = 5
        quiet[.verdictResends] = 4
        quiet[.singleVerdicts] = 2
        quiet[.deferredVerdicts] = 1
        let kernel = MetricsSnapshot.Kernel(waiting: 3, queueDropped: 7, userDropped: 9, portID: 1234)
        return MetricsSnapshot(
            time: 1_700_000_100.25,
            processStart: 1_700_000_000,
            build: MetricsSnapshot.BuildInfo(version: "0.1.0", swift: "6.3", commit: "v0.1.0-3-gabcdef0"),
            queues: [
                MetricsSnapshot.Queue(queue: 0, values: values, maxLength: 4096, kernel: kernel),
                MetricsSnapshot.Queue(
                    queue: 1,
                    values: quiet,
                    maxLength: 4096,
                    kernel: bound ? kernel : nil,
                    unboundSeconds: bound ? nil : 2.5
                ),
            ],
            set: MetricsSnapshot.SetFigures(
                ipv4Entries: 1200,
                ipv6Entries: 34,
                version: 2,
                published: 1_700_000_040.5,
                rebuilds: 1
            ),
            sources: [source],
            refusals: ["shrink": 1],
            policy: MetricsSnapshot.PolicyFigures(
                match: "both",
                action: "reject",
                dryRun: false,
                rejectMark: 0x4542,
                allowlistIPv4Entries: 2,
                allowlistIPv6Entries: 1
            ),
            topListed: [
                TopListedTable.Entry(address: "198.51.100.10", packets: 4),
                TopListedTable.Entry(address: "2001:db8:bad::10", packets: 3),
            ]
        )
    }
}

/// A blocking client on a Unix socket for the server tests: raw bytes in, raw bytes out.
struct RawUnixClient {
    let descriptor: Int32

    init?(path: String, timeoutSeconds: Int = 5) {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var limit = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(descriptor)
            return nil
        }
        self.descriptor = descriptor
    }

    /// Sends everything it can; false once the peer has closed.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 { return false }
            sent += count
        }
        return true
    }

    /// Reads until the peer closes (or the timeout); nil on a timeout with nothing read.
    func readAll() -> String? {
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return count < 0 && answer.isEmpty ? nil : String(decoding: answer, as: UTF8.self) }
            answer.append(contentsOf: chunk[..<count])
        }
    }

    func close() { _ = Glibc.close(descriptor) }

    /// One request with "Connection: close"; the whole answer.
    static func get(_ path: String, _ target: String, method: String = "GET") -> String? {
        guard let client = RawUnixClient(path: path) else { return nil }
        defer { client.close() }
        client.send("\(method) \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        return client.readAll()
    }
}

/// A fresh temporary directory.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/exitblock-stats-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
}
