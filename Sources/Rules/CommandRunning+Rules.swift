import LinuxSystem

extension CommandRunning {
    /// Runs one of the rules' tools; a program that cannot be started is the rules' `cannotRun`.
    func runTool(_ path: String, _ arguments: [String], input: String?) throws(RulesError) -> CommandResult {
        do {
            return try run(path, arguments, input: input)
        } catch {
            switch error {
            case .cannotRun(let path, let reason): throw .cannotRun(path: path, reason: reason)
            }
        }
    }
}
