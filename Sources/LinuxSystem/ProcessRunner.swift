import Subprocess
import SystemPackage

/// What a finished command left: its exit status and its output.
public struct CommandResult: Sendable, Equatable {
    public var status: Int32
    public var output: String
    public var errorOutput: String

    public init(status: Int32, output: String, errorOutput: String) {
        self.status = status
        self.output = output
        self.errorOutput = errorOutput
    }
}

/// Runs a program to completion. `ProcessRunner` is the real one; tests pass fakes.
public protocol CommandRunning: Sendable {
    /// Runs `path` with `arguments`, `input` on its stdin (nothing when nil), and returns its
    /// exit status and output. Throws only when the program cannot be started.
    func run(_ path: String, _ arguments: [String], input: String?) throws(CommandError) -> CommandResult
}

/// Runs programs with swift-subprocess (posix_spawn; the exit is seen through a pidfd, so it
/// works in any network namespace, also one whose loopback interface is down). Standard
/// input is written and standard output and error are read concurrently, so neither side can
/// block on a full pipe.
///
/// The call blocks its thread until the program has exited: call it from a plain thread (the
/// CLI's commands), never from a task on Swift's cooperative pool, which it would starve.
public struct ProcessRunner: CommandRunning {
    /// The most output kept from one stream of a program; iptables-save of a large table is
    /// a few MiB at most. A program that writes more fails with `cannotRun`.
    public static let outputLimit = 64 << 20

    public init() {}

    public func run(_ path: String, _ arguments: [String], input: String?) throws(CommandError) -> CommandResult {
        do {
            return try Blocking.wait { () async throws -> CommandResult in
                try await Self.runAsync(path, arguments, input: input ?? "")
            }
        } catch {
            throw .cannotRun(path: path, reason: "\(error)")
        }
    }

    static func runAsync(_ path: String, _ arguments: [String], input: String) async throws -> CommandResult {
        let result = try await Subprocess.run(
            .path(FilePath(path)),
            arguments: Arguments(arguments),
            input: .string(input),
            output: .string(limit: outputLimit),
            error: .string(limit: outputLimit)
        )
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return CommandResult(status: status, output: result.standardOutput, errorOutput: result.standardError)
    }
}
