import Foundation

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
    func run(_ path: String, _ arguments: [String], input: String?) throws(RulesError) -> CommandResult
}

/// Runs programs with Foundation's `Process`. Standard input, output and error go through
/// unlinked temporary files, so neither side can block on a full pipe whatever the sizes.
///
/// Foundation on Linux learns that a child exited through a CFSocket, whose wakeup pair is a
/// UDP socket on 127.0.0.1: with the loopback interface down (a fresh network namespace),
/// `waitUntilExit` never returns. So the runner refuses to start a program then, saying why.
public struct ProcessRunner: CommandRunning {
    public init() {}

    public func run(_ path: String, _ arguments: [String], input: String?) throws(RulesError) -> CommandResult {
        if ProcessRunner.loopbackIsDown {
            throw .cannotRun(
                path: path,
                reason: "the loopback interface is down in this network namespace, and Foundation's Process "
                    + "needs it to see a program exit; bring it up first (ip link set lo up)"
            )
        }
        do {
            let stdin = try TemporaryFile(contents: input ?? "")
            let stdout = try TemporaryFile(contents: "")
            let stderr = try TemporaryFile(contents: "")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            process.standardInput = stdin.handle
            process.standardOutput = stdout.handle
            process.standardError = stderr.handle
            try process.run()
            process.waitUntilExit()
            let status =
                process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
            return CommandResult(status: status, output: try stdout.contents(), errorOutput: try stderr.contents())
        } catch let error as RulesError {
            throw error
        } catch {
            throw .cannotRun(path: path, reason: "\(error.localizedDescription)")
        }
    }
}

extension ProcessRunner {
    /// True when this network namespace's loopback interface is down: an interface that is up
    /// has joined 224.0.0.1, so it is listed in /proc/self/net/igmp (a few lines per
    /// interface). False when the file cannot be read (no IPv4 multicast in the kernel).
    static var loopbackIsDown: Bool {
        guard let text = try? String(contentsOfFile: "/proc/self/net/igmp", encoding: .utf8) else { return false }
        return !text.split(separator: "\n").contains { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count >= 2 && fields[1] == "lo"
        }
    }
}

/// A file in the temporary directory, removed from the directory as soon as it is open:
/// the open handle is all that is left of it.
private final class TemporaryFile {
    let handle: FileHandle

    init(contents: String) throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("exitblock-rules-\(UUID().uuidString)").path
        guard FileManager.default.createFile(atPath: path, contents: Data(contents.utf8), attributes: nil) else {
            throw RulesError.cannotRun(path: path, reason: "cannot create a temporary file")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw RulesError.cannotRun(path: path, reason: "cannot open a temporary file")
        }
        self.handle = handle
    }

    /// Everything written to the file, read from its start.
    func contents() throws -> String {
        try handle.seek(toOffset: 0)
        let data = try handle.readToEnd() ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    deinit { try? handle.close() }
}
