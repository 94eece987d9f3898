import Foundation

/// The `/stats` document: the snapshot plus the health verdict, as JSON with sorted keys
/// (stable output, easy to diff). The CLI's `stats` and `top` decode the same type.
public struct StatsJSON: Sendable, Equatable, Codable {
    /// The Content-Type of the output.
    public static let contentType = "application/json"

    /// True when every queue is bound and a set is loaded.
    public var healthy: Bool
    /// Why not, one reason per element.
    public var problems: [String]
    /// What is wrong without making the daemon unhealthy (stale sources), one per element;
    /// nil from a daemon that does not report them.
    public var warnings: [String]?
    /// Seconds since the set in force was published.
    public var setAge: Double
    public var stats: MetricsSnapshot

    public init(_ snapshot: MetricsSnapshot) {
        stats = snapshot
        problems = snapshot.problems
        healthy = problems.isEmpty
        warnings = snapshot.warnings
        setAge = snapshot.setAge
    }

    /// The document as UTF-8 JSON.
    public var bytes: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain structs of numbers and strings cannot fail.
        return (try? [UInt8](encoder.encode(self))) ?? Array("{}".utf8)
    }

    /// Reads a document; throws `DecodingError` when it is not one.
    public static func decode(_ bytes: [UInt8]) throws -> StatsJSON {
        try JSONDecoder().decode(StatsJSON.self, from: Data(bytes))
    }
}
