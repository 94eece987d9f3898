/// Why installing, removing or reading exitblock's rules failed, with what a person needs to
/// act on it: the tool, the rule it refused and its own message.
public enum RulesError: Error, Equatable, CustomStringConvertible {
    /// A tool of the backend is not installed.
    case toolMissing(name: String, searched: [String])
    /// The tool exists but could not be started.
    case cannotRun(path: String, reason: String)
    /// `iptables --version` did not say legacy or nf_tables.
    case unknownBackend(tool: String, version: String)
    /// A tool exited non-zero. `failedRule` is the line of our input it named, if any.
    case commandFailed(command: String, status: Int32, message: String, failedRule: String?)

    public var description: String {
        switch self {
        case .toolMissing(let name, let searched):
            return "\(name) not found (searched \(searched.joined(separator: ":"))); "
                + "install the iptables package, or choose another --backend"
        case .cannotRun(let path, let reason):
            return "cannot run \(path): \(reason)"
        case .unknownBackend(let tool, let version):
            return "cannot tell whether \(tool) is iptables-legacy or iptables-nft from '\(version)'; "
                + "give --backend legacy or --backend nft"
        case .commandFailed(let command, let status, let message, let failedRule):
            var text = "\(command) failed (exit status \(status))"
            if let failedRule { text += " on the rule\n  \(failedRule)" }
            let trimmed = message.split(separator: "\n").filter { !$0.hasPrefix("Try `") }
            if !trimmed.isEmpty { text += "\n" + trimmed.map { "  \($0)" }.joined(separator: "\n") }
            return text
        }
    }
}
