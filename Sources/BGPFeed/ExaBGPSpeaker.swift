import LinuxSystem
import ExitSet
import Foundation

/// Feeds ExaBGP as its API process: the text commands go to stdout, which ExaBGP reads.
///
/// ExaBGP keeps the routes an API process announced when the process dies and respawns it,
/// so at start the whole set is announced (an identical announcement is a no-op in ExaBGP's
/// RIB, nothing reaches the peers) and the routes the last run had announced but the set
/// no longer holds are withdrawn (from the `RouteLedger`).
public struct ExaBGPSpeaker: RouteSpeaker {
    public let name = "exabgp"
    public let commands: ExaBGPCommands
    private let write: @Sendable (String) throws -> Void

    /// Writes to `write` (stdout by default).
    public init(settings: RouteSettings, write: (@Sendable (String) throws -> Void)? = nil) {
        commands = ExaBGPCommands(settings: settings)
        self.write = write ?? { text in try FileHandle.standardOutput.write(contentsOf: Data(text.utf8)) }
    }

    public func apply(_ delta: RouteDelta, routes: [IPPrefix], initial: Bool) throws(BGPFeedError) {
        let lines =
            initial
            ? delta.withdraw.map(commands.withdraw) + routes.map(commands.announce)
            : commands.lines(for: delta)
        guard !lines.isEmpty else { return }
        do {
            try write(lines.joined(separator: "\n") + "\n")
        } catch {
            throw .write(target: "ExaBGP (stdout)", reason: "\(error)")
        }
    }
}
