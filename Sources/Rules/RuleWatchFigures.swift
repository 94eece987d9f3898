/// What the rule watch knows, for the stats: per family whether exitblock's layout is in
/// place, and what is missing when it is not.
public struct RuleWatchFigures: Sendable, Equatable, Codable {
    /// One family.
    public struct Family: Sendable, Equatable, Codable {
        /// `ipv4` or `ipv6`.
        public var family: String
        /// The layout is checked (it was seen complete once, or the watch requires it).
        public var watched: Bool
        /// Every part of the layout is in place (true while not watched).
        public var intact: Bool
        /// `legacy` or `nft`: the backend read; empty before the first look.
        public var backend: String
        /// What is missing or changed, empty when intact.
        public var problems: [String]

        public init(family: String, watched: Bool, intact: Bool, backend: String, problems: [String]) {
            self.family = family
            self.watched = watched
            self.intact = intact
            self.backend = backend
            self.problems = problems
        }
    }

    public var families: [Family]
    /// `--restore-rules`: the watch puts the layout back when it is gone.
    public var restoreEnabled: Bool
    /// Layouts put back (one per family and restore).
    public var restores: UInt64
    /// Restores that failed (the installer's error is logged).
    public var restoreFailures: UInt64
    /// Looks at the kernel's tables so far.
    public var checks: UInt64
    /// Times the layout was found broken (intact to not intact), over families.
    public var breaks: UInt64

    public init(
        families: [Family],
        restoreEnabled: Bool,
        restores: UInt64 = 0,
        restoreFailures: UInt64 = 0,
        checks: UInt64 = 0,
        breaks: UInt64 = 0
    ) {
        self.families = families
        self.restoreEnabled = restoreEnabled
        self.restores = restores
        self.restoreFailures = restoreFailures
        self.checks = checks
        self.breaks = breaks
    }

    /// The health problems: one line per watched family that is not intact.
    public var problems: [String] {
        families.filter { $0.watched && !$0.intact }.map {
            "rules: " + ($0.problems.isEmpty ? "\($0.family) not intact" : $0.problems.joined(separator: ", "))
        }
    }
}
