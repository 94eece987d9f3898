import ExitSet
import Foundation
import LinuxSystem

/// The routes last put in force, kept in the state directory (one prefix a line), so that a
/// restarted feed knows what its speaker may still hold: the routes the new set drops are
/// withdrawn at start, the others are not touched.
public struct RouteLedger: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The routes of the file; nil when there is none or it cannot be read. Lines that are
    /// not prefixes are skipped.
    public func read() -> [IPPrefix]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").compactMap { IPPrefix($0) }
    }

    /// Replaces the file with `routes`.
    public func write(_ routes: [IPPrefix]) throws(BGPFeedError) {
        let text = routes.map(\.cidr).joined(separator: "\n") + (routes.isEmpty ? "" : "\n")
        do {
            try DurableFile.write(Array(text.utf8), to: path)
        } catch {
            throw .write(target: path, reason: "\(error)")
        }
    }
}
