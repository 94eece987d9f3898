/// Why a program could not be run to completion (it is missing, not executable, or wrote more
/// than `ProcessRunner.outputLimit`); a program that ran and failed is a `CommandResult`.
public enum CommandError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotRun(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotRun(let path, let reason): return "cannot run \(path): \(reason)"
        }
    }
}
