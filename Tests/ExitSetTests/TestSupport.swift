import ExitSet
import Foundation

/// A seeded generator (SplitMix64) so that a failing property test reproduces.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
