/// Why the feed refused a set or could not hand it to a speaker. In every case the routes in
/// force stay as they were.
public enum BGPFeedError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The set needs more routes than `--max-routes` allows.
    case tooManyRoutes(count: RouteCount, limit: Int)
    /// The set would withdraw every route in force (nothing left to announce).
    case wouldWithdrawEverything(inForce: Int)
    /// Writing to the speaker (ExaBGP's pipe, the BIRD include file) failed.
    case write(target: String, reason: String)
    /// The speaker refused or could not take the change (birdc's answer).
    case reload(command: String, status: Int32, output: String)

    /// The snake_case word of the refusal metric.
    public var reason: String {
        switch self {
        case .tooManyRoutes: "max_routes"
        case .wouldWithdrawEverything: "withdraw_everything"
        case .write: "write_failed"
        case .reload: "reload_failed"
        }
    }

    public var description: String {
        switch self {
        case .tooManyRoutes(let count, let limit):
            "the set needs \(count) routes, over --max-routes \(limit)"
        case .wouldWithdrawEverything(let inForce):
            "the set leaves no route to announce and would withdraw all \(inForce) routes in force; refused"
        case .write(let target, let reason):
            "cannot write to \(target): \(reason)"
        case .reload(let command, let status, let output):
            "\(command) exited with status \(status): \(output.isEmpty ? "no output" : output)"
        }
    }
}
