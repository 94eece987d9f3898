import Foundation
import Testing

@testable import LinuxSystem

/// ProcessRunner against real programs (/bin/sh): output, error output, input, exit status,
/// signals, a program that does not exist, and output larger than a pipe's buffer. Each call
/// is made from a thread of its own, as the CLI makes it: ProcessRunner blocks its caller,
/// which must not be a thread of Swift's cooperative pool (where these tests run).
@Suite struct ProcessRunnerTests {
    /// `ProcessRunner().run(...)` on a new thread.
    func run(_ path: String, _ arguments: [String], input: String?) async -> Result<CommandResult, CommandError> {
        await withCheckedContinuation { continuation in
            Thread {
                do throws(CommandError) {
                    continuation.resume(returning: .success(try ProcessRunner().run(path, arguments, input: input)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }.start()
        }
    }

    @Test func collectsOutputErrorOutputAndStatus() async throws {
        let result = try await run("/bin/sh", ["-c", "cat; echo problem >&2; exit 3"], input: "line 1\nline 2\n").get()
        #expect(result == CommandResult(status: 3, output: "line 1\nline 2\n", errorOutput: "problem\n"))
    }

    @Test func noInputIsAnEmptyStandardInput() async throws {
        let result = try await run("/bin/sh", ["-c", "wc -c"], input: nil).get()
        #expect(result.status == 0)
        #expect(result.output.filter { !$0.isWhitespace } == "0")
    }

    @Test func aSignalIs128PlusItsNumber() async throws {
        let result = try await run("/bin/sh", ["-c", "kill -9 $$"], input: nil).get()
        #expect(result.status == 128 + 9)
    }

    @Test func aMissingProgramCannotRun() async {
        let result = await run("/nonexistent/iptables-save", [], input: nil)
        guard case .failure(.cannotRun(let path, _)) = result else {
            Issue.record("expected cannotRun, got \(result)")
            return
        }
        #expect(path == "/nonexistent/iptables-save")
    }

    /// Several MiB each way, more than a pipe holds: neither side may block on the other.
    @Test func largeInputAndOutputDoNotBlock() async throws {
        let input = String(repeating: "-A EXITBLOCK -s 192.0.2.1/32 -j DROP\n", count: 100_000)
        let result = try await run("/bin/sh", ["-c", "cat; yes | head -c 3000000 >&2"], input: input).get()
        #expect(result.status == 0)
        #expect(result.output == input)
        #expect(result.errorOutput.utf8.count == 3_000_000)
    }
}
