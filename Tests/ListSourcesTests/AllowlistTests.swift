import ExitSet
import Foundation
import Testing

@testable import ListSources

@Suite struct AllowlistTests {
    private func temporaryFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "exitblock-allow-\(UUID().uuidString).txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func inlineValuesAndFiles() throws {
        let file = try temporaryFile("# partners\n198.51.100.0/28\n2001:db8:a11::/48\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let allowlist = try Allowlist.load(["203.0.113.7", "[2001:db8::1]", file, "198.51.100.5"])
        #expect(allowlist.parts.map(\.isInline) == [true, true, false, true])
        #expect(allowlist.set.count == 5)
        #expect(allowlist.set.ipv4Count == 3 && allowlist.set.ipv6Count == 2)
        let host = try #require(allowlist.match(IPAddress("198.51.100.5")!))
        #expect(host.entry.description == "198.51.100.5")
        #expect(host.values == ["198.51.100.5"])
        let inFile = try #require(allowlist.match(IPAddress("2001:db8:a11:5::1")!))
        #expect(inFile.entry.description == "2001:db8:a11::/48")
        #expect(inFile.values == [file])
        #expect(allowlist.match(IPAddress("198.51.100.16")!) == nil)
        #expect(allowlist.summary == "allowlist: 5 entries (3 IPv4, 2 IPv6) from 4 value(s)")
    }

    @Test func noValueIsTheEmptyAllowlist() throws {
        let allowlist = try Allowlist.load([])
        #expect(allowlist.set.count == 0)
    }

    @Test func unusableValuesAreRefusedWithTheirName() throws {
        #expect(
            throws: ListLoadError.unreadable(
                path: "no-such-allowlist",
                reason: "not an address or prefix, and as a file: no such file"
            )
        ) {
            try Allowlist.load(["no-such-allowlist"])
        }
        let empty = try temporaryFile("")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: ListLoadError.refused(path: empty, .empty)) { try Allowlist.load([empty]) }
        // A bad prefix length is not an address, so it is taken as a file and named.
        do {
            _ = try Allowlist.load(["10.0.0.0/33"])
            Issue.record("10.0.0.0/33 was accepted")
        } catch {
            #expect("\(error)".hasPrefix("10.0.0.0/33: cannot read"))
        }
    }
}
