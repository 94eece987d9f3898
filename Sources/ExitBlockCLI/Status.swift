/// Exit codes shared by the subcommands.
enum Status {
    /// `check`: the address is not blocked.
    static let notBlocked: Int32 = 1
    /// A list or another input could not be used.
    static let failure: Int32 = 2
}
