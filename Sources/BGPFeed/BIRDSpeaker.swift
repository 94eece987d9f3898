import Engine
import ExitSet
import ListSources
import Rules

/// Feeds BIRD 2: writes the include file (`BIRDStaticConfig`) atomically (temporary file,
/// fsync, rename) and asks BIRD to reload it with its own client, `birdc -s SOCKET configure`.
/// When BIRD does not take the new configuration, the previous file is put back, so the file
/// always says what BIRD runs.
public struct BIRDSpeaker: RouteSpeaker {
    public let name = "bird"
    public let config: BIRDStaticConfig
    public let includePath: String
    public let socketPath: String
    public let birdc: String
    private let runner: any CommandRunning

    public init(
        config: BIRDStaticConfig,
        includePath: String,
        socketPath: String,
        birdc: String = "/usr/sbin/birdc",
        runner: any CommandRunning = ProcessRunner()
    ) {
        self.config = config
        self.includePath = includePath
        self.socketPath = socketPath
        self.birdc = birdc
        self.runner = runner
    }

    public func apply(_ delta: RouteDelta, routes: [IPPrefix], initial: Bool) throws(BGPFeedError) {
        guard initial || !delta.isEmpty else { return }
        let previous = try? String(contentsOfFile: includePath, encoding: .utf8)
        try writeFile(config.text(for: routes))
        do {
            try reload()
        } catch {
            if let previous { try? writeFile(previous) }
            throw error
        }
    }

    /// Writes the include file for `routes` without asking BIRD to reload (before BIRD starts).
    public func writeFile(_ text: String) throws(BGPFeedError) {
        do {
            try DurableFile.write(Array(text.utf8), to: includePath)
        } catch {
            throw .write(target: includePath, reason: "\(error)")
        }
    }

    /// `birdc -s SOCKET configure`; BIRD answers "Reconfigured" or "Reconfiguration in
    /// progress" when it took the file, and the parse error otherwise.
    public func reload() throws(BGPFeedError) {
        let command = "\(birdc) -s \(socketPath) configure"
        let result: CommandResult
        do {
            result = try runner.run(birdc, ["-s", socketPath, "configure"], input: nil)
        } catch {
            throw .reload(command: command, status: -1, output: "\(error)")
        }
        let output = (result.output + result.errorOutput).trimmingWhitespace()
        let took = ["Reconfigured", "Reconfiguration in progress", "queueing"].contains { output.contains($0) }
        guard result.status == 0, took else {
            throw .reload(command: command, status: result.status, output: output)
        }
    }
}
