import ExitSet
import Foundation
import SeededRandom

/// The real Tor documents in `../shared/data/tor/`, relative to the package root.
enum TestData {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ExitSetTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("../shared/data/tor", isDirectory: true)
        .standardizedFileURL

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

extension Array where Element == UInt8 {
    /// The UTF-8 bytes of `text`.
    init(text: String) {
        self = Array(text.utf8)
    }
}

/// Parses `text`, for tests that expect success.
func parse(_ text: String, format: ListFormat? = nil) throws -> ParsedList {
    try ListParser.parse(Array(text: text), format: format)
}

/// The error `ListParser.parse` throws for `bytes`, or nil when it does not throw.
func parseError(_ bytes: [UInt8], format: ListFormat? = nil) -> ListError? {
    do {
        _ = try ListParser.parse(bytes, format: format)
        return nil
    } catch {
        return error
    }
}

func parseError(_ text: String, format: ListFormat? = nil) -> ListError? {
    parseError(Array(text: text), format: format)
}

/// Shorthand for a prefix from text that must parse.
func prefix(_ text: String) -> IPPrefix {
    guard let prefix = IPPrefix(text) else { fatalError("test prefix does not parse: \(text)") }
    return prefix
}

func address(_ text: String) -> IPAddress {
    guard let address = IPAddress(text) else { fatalError("test address does not parse: \(text)") }
    return address
}
