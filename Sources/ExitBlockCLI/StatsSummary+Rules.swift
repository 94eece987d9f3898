import Rules

extension StatsSummary {
    /// `rules: ipv4 intact (legacy), ipv6 BROKEN (nft); restores 1`: the rule watch's state.
    static func rulesLine(_ rules: RuleWatchFigures) -> String {
        let families = rules.families.map { family in
            let state = !family.watched ? "not watched" : family.intact ? "intact" : "BROKEN"
            return family.backend.isEmpty
                ? "\(family.family) \(state)" : "\(family.family) \(state) (\(family.backend))"
        }
        var line = "rules: " + families.joined(separator: ", ")
        line += rules.restoreEnabled ? "; restores \(rules.restores)" : "; restore off"
        if rules.restoreFailures > 0 { line += ", \(rules.restoreFailures) failed" }
        return line
    }
}
