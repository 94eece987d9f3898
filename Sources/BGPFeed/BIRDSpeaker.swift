import LinuxSystem
import ExitSet

/// Feeds BIRD 2: writes the include file (`BIRDStaticConfig`) atomically (temporary file,
/// fsync, rename) and asks BIRD to reload it: `configure` on BIRD's control socket, spoken
/// directly (`BIRDControlSocket`; no `birdc` process).
/// When BIRD does not take the new configuration, the previous file is put back, so the file
/// always says what BIRD runs.
public struct BIRDSpeaker: RouteSpeaker {
    public let name = "bird"
    public let config: BIRDStaticConfig
    public let includePath: String
    public let socketPath: String
    /// Sends a command line to the socket and returns BIRD's reply (the socket itself; a fake
    /// peer in tests).
    public typealias Control = @Sendable (_ command: String, _ socketPath: String) throws -> BIRDReply
    private let control: Control

    public init(
        config: BIRDStaticConfig,
        includePath: String,
        socketPath: String,
        control: @escaping Control = { command, path in try BIRDControlSocket.send(command, to: path) }
    ) {
        self.config = config
        self.includePath = includePath
        self.socketPath = socketPath
        self.control = control
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

    /// `configure` on the control socket; BIRD answers 0003 Reconfigured (or 0004, 0018,
    /// 0019, 0024) when it took the file, and the parse error (8xxx, 9xxx) otherwise.
    public func reload() throws(BGPFeedError) {
        let command = "configure on \(socketPath)"
        let reply: BIRDReply
        do {
            reply = try control("configure", socketPath)
        } catch {
            throw .reload(command: command, status: -1, output: "\(error)")
        }
        guard reply.tookConfiguration else {
            throw .reload(command: command, status: Int32(reply.code), output: reply.text)
        }
    }
}
