import ExitSet

extension ListError {
    /// A short snake_case reason, the `reason` label of the refusal metrics.
    public var reason: String {
        switch self {
        case .empty: return "empty"
        case .noValidEntry: return "no_valid_entry"
        case .binary: return "binary"
        case .lineTooLong: return "line_too_long"
        case .malformed: return "malformed"
        }
    }
}
