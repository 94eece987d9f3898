import Foundation
import LinuxSystem

/// The last good version of each source, kept on disk in `<state directory>/sources/`: the
/// raw bytes (`NAME.list`, readable with `exitblock list parse`) and a small JSON document
/// beside them (`NAME.json`: source, ETag, Last-Modified, fetched-at, format, size, checksum).
/// Both are written durably (`DurableFile`), the bytes first, so a crash between the two
/// leaves good bytes with the previous metadata; the checksum catches that case, and the bytes
/// are then used without validators (the next fetch is unconditional).
///
/// Only versions that passed the parser and the guards are written. `NAME` is the last path
/// component of the source, made file-name safe, and a hash of the whole source text.
public struct SourceCache: Sendable {
    /// What is kept beside the bytes.
    public struct Metadata: Sendable, Equatable, Codable {
        /// The source as given (path or URL).
        public var source: String
        public var etag: String?
        public var lastModified: String?
        /// Unix time the bytes were fetched or last confirmed current (a 304 confirms).
        public var fetchedAt: Double
        /// The format the bytes were read as.
        public var format: String
        public var bytes: Int
        /// FNV-1a 64 of the bytes, 16 hex digits.
        public var checksum: String

        public init(
            source: String,
            conditional: ConditionalRequest = ConditionalRequest(),
            fetchedAt: Double,
            format: String,
            bytes: [UInt8]
        ) {
            self.source = source
            self.etag = conditional.etag
            self.lastModified = conditional.lastModified
            self.fetchedAt = fetchedAt
            self.format = format
            self.bytes = bytes.count
            self.checksum = SourceCache.checksum(bytes)
        }

        public var conditional: ConditionalRequest {
            ConditionalRequest(etag: etag, lastModified: lastModified)
        }
    }

    /// One cached version.
    public struct Entry: Sendable, Equatable {
        public var metadata: Metadata
        public var bytes: [UInt8]
        /// False when the metadata did not match the bytes (it was replaced by a stand-in:
        /// no validators, fetched-at = the file's modification time, format detected).
        public var consistent: Bool
    }

    /// `<state directory>/sources`.
    public let directory: String

    public init(stateDirectory: String) {
        directory = (stateDirectory.hasSuffix("/") ? String(stateDirectory.dropLast()) : stateDirectory) + "/sources"
    }

    /// Creates the directory when missing.
    public func prepare() throws(DurableFile.Error) {
        try DurableFile.makeDirectory(directory)
    }

    /// The files of `source`: the bytes and the metadata.
    public func paths(for source: String) -> (bytes: String, metadata: String) {
        let base = directory + "/" + Self.fileName(for: source)
        return (base + ".list", base + ".json")
    }

    /// Stores a version: bytes, then metadata, then the directory entry.
    public func write(_ bytes: [UInt8], metadata: Metadata) throws(DurableFile.Error) {
        let paths = paths(for: metadata.source)
        try DurableFile.write(bytes, to: paths.bytes)
        try DurableFile.write(Self.encode(metadata), to: paths.metadata)
        try DurableFile.syncDirectory(directory)
    }

    /// Replaces the metadata only (after a 304: new fetched-at, maybe new validators).
    public func writeMetadata(_ metadata: Metadata) throws(DurableFile.Error) {
        try DurableFile.write(Self.encode(metadata), to: paths(for: metadata.source).metadata)
        try DurableFile.syncDirectory(directory)
    }

    /// The cached version of `source`, nil when there is none (or its bytes cannot be read).
    public func read(source: String) -> Entry? {
        let paths = paths(for: source)
        guard let data = FileManager.default.contents(atPath: paths.bytes) else { return nil }
        let bytes = [UInt8](data)
        if let stored = FileManager.default.contents(atPath: paths.metadata),
            let metadata = try? JSONDecoder().decode(Metadata.self, from: stored),
            metadata.source == source, metadata.bytes == bytes.count, metadata.checksum == Self.checksum(bytes)
        {
            return Entry(metadata: metadata, bytes: bytes, consistent: true)
        }
        let modified =
            (try? FileManager.default.attributesOfItem(atPath: paths.bytes)[.modificationDate] as? Date)?
            .timeIntervalSince1970 ?? 0
        return Entry(
            metadata: Metadata(source: source, fetchedAt: modified, format: "", bytes: bytes),
            bytes: bytes,
            consistent: false
        )
    }

    /// FNV-1a, 64 bits, as 16 hex digits: enough to notice bytes and metadata out of step.
    public static func checksum(_ bytes: [UInt8]) -> String {
        let hash = fnv1a(bytes)
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// `LASTCOMPONENT-HASH`: readable, unique per source text, safe as a file name.
    static func fileName(for source: String) -> String {
        var last = source
        while last.hasSuffix("/") { last.removeLast() }
        if let slash = last.lastIndex(of: "/") { last = String(last[last.index(after: slash)...]) }
        let safe = String(
            last.unicodeScalars.prefix(48).map { scalar -> Character in
                let c = Character(scalar)
                return c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "-" || c == "_") ? c : "_"
            }
        )
        let hash = String(fnv1a(Array(source.utf8)), radix: 16)
        let name = safe.isEmpty || safe.hasPrefix(".") ? "source" + safe : safe
        return name + "-" + String(repeating: "0", count: 16 - hash.count) + hash
    }

    private static func encode(_ metadata: Metadata) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        // A struct of strings and numbers always encodes.
        return ((try? [UInt8](encoder.encode(metadata))) ?? []) + [UInt8(ascii: "\n")]
    }
}
