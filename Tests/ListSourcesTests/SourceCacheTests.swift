import Foundation
import ListSources
import Testing

@Suite struct SourceCacheTests {
    @Test func writesAndReadsBackBytesAndMetadata() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = SourceCache(stateDirectory: directory + "/state")
        try cache.prepare()
        let source = "https://lists.example/torbulkexitlist?x=1"
        let bytes = Array("192.0.2.1\n2001:db8::1\n".utf8)
        let metadata = SourceCache.Metadata(
            source: source,
            conditional: ConditionalRequest(etag: "\"abc\"", lastModified: "Tue, 01 Jul 2025 10:00:00 GMT"),
            fetchedAt: 1_750_000_000.5,
            format: "plain",
            bytes: bytes
        )
        try cache.write(bytes, metadata: metadata)
        let entry = try #require(cache.read(source: source))
        #expect(entry.bytes == bytes)
        #expect(entry.metadata == metadata)
        #expect(entry.consistent)
        #expect(entry.metadata.conditional.etag == "\"abc\"")
        // No temporary file is left behind; the bytes file is a plain list.
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.directory).sorted()
        #expect(files.count == 2)
        #expect(files.allSatisfy { !$0.hasSuffix(".tmp") })
        #expect(files[0].hasPrefix("torbulkexitlist_x_1-"))
        #expect(FileManager.default.contents(atPath: cache.paths(for: source).bytes) == Data(bytes))
        // Another source has no entry.
        #expect(cache.read(source: "/etc/other.list") == nil)
    }

    @Test func metadataUpdateKeepsTheBytes() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = SourceCache(stateDirectory: directory)
        try cache.prepare()
        let bytes = Array("198.51.100.7\n".utf8)
        var metadata = SourceCache.Metadata(source: "/lists/a", fetchedAt: 1, format: "plain", bytes: bytes)
        try cache.write(bytes, metadata: metadata)
        metadata.fetchedAt = 2
        metadata.etag = "\"new\""
        try cache.writeMetadata(metadata)
        let entry = try #require(cache.read(source: "/lists/a"))
        #expect(entry.metadata.fetchedAt == 2)
        #expect(entry.metadata.etag == "\"new\"")
        #expect(entry.bytes == bytes)
    }

    @Test func bytesOutOfStepWithTheirMetadataAreUsedWithoutValidators() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = SourceCache(stateDirectory: directory)
        try cache.prepare()
        let old = Array("192.0.2.1\n".utf8)
        try cache.write(
            old,
            metadata: SourceCache.Metadata(
                source: "s",
                conditional: ConditionalRequest(etag: "\"1\""),
                fetchedAt: 5,
                format: "plain",
                bytes: old
            )
        )
        // As if the process died between writing the new bytes and their metadata.
        let new = Array("192.0.2.1\n192.0.2.2\n".utf8)
        try Data(new).write(to: URL(fileURLWithPath: cache.paths(for: "s").bytes))
        let entry = try #require(cache.read(source: "s"))
        #expect(!entry.consistent)
        #expect(entry.bytes == new)
        #expect(entry.metadata.conditional.isEmpty)
        #expect(entry.metadata.fetchedAt > 1_000_000_000)
    }

    @Test func checksumIsStable() {
        #expect(SourceCache.checksum([]) == "cbf29ce484222325")
        #expect(SourceCache.checksum(Array("a".utf8)) == "af63dc4c8601ec8c")
    }
}
