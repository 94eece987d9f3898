/// The layout `rules install` makes for one family, as the rule watch checks it: the jumps
/// from the hooks, the shapes of exitblock's chain rules, and the sets those rules name.
/// Derived from the same `RuleSet` that `rules install` renders, so the watch and the
/// installer cannot disagree about what belongs there.
public struct RuleLayout: Sendable, Equatable {
    public var family: RuleSettings.Family
    /// Hook chains (INPUT, FORWARD) of mangle that jump to the chain.
    public var mangleHooks: [String]
    /// The rules of mangle's EXITBLOCK chain.
    public var mangleRules: [RuleShape]
    /// Hook chains of filter that jump to filter's chain (reject only).
    public var filterHooks: [String]
    /// The rules of filter's EXITBLOCK chain (reject only).
    public var filterRules: [RuleShape]
    /// The ipsets the rules name (the verdict caches).
    public var sets: [String]

    /// The layout of `rules` for `family`.
    public init(_ rules: RuleSet, family: RuleSettings.Family) {
        self.family = family
        mangleHooks = rules.hooks.map(\.chain)
        let queueLines = rules.queueRules(for: family)
        mangleRules = queueLines.map(RuleShape.init(ruleLine:))
        filterHooks = rules.hasFilterChain ? rules.hooks.map(\.chain) : []
        filterRules = rules.filterRules(for: family).map(RuleShape.init(ruleLine:))
        var names: [String] = []
        for line in queueLines {
            let words = line.split(separator: " ").map(String.init)
            for (index, word) in words.enumerated() where word == "--match-set" && index + 1 < words.count {
                names.append(words[index + 1])
            }
        }
        sets = RuleSet.unique(names)
    }

    /// What is missing or changed, one phrase each, naming the family; empty when `mangle`,
    /// `filter` and the sets present hold the layout. A nil table does not exist.
    public func problems(mangle: ObservedTable?, filter: ObservedTable?, presentSets: Set<String>) -> [String] {
        let name = family == .ipv4 ? "ipv4" : "ipv6"
        var problems = RuleLayout.chainProblems(
            "\(name) mangle",
            table: mangle,
            hooks: mangleHooks,
            expected: mangleRules
        )
        if !filterRules.isEmpty {
            problems += RuleLayout.chainProblems(
                "\(name) filter",
                table: filter,
                hooks: filterHooks,
                expected: filterRules
            )
        }
        for set in sets where !presentSets.contains(set) {
            problems.append("\(name) set \(set) is missing")
        }
        return problems
    }

    static func chainProblems(_ place: String, table: ObservedTable?, hooks: [String], expected: [RuleShape])
        -> [String]
    {
        guard let table else { return ["\(place) table is missing"] }
        var problems: [String] = []
        for hook in hooks where !(table.rules(of: hook)?.contains { $0.target == RuleSet.chain } ?? false) {
            problems.append("\(place) \(hook) has no jump to \(RuleSet.chain)")
        }
        guard let rules = table.rules(of: RuleSet.chain) else {
            return problems + ["\(place) chain \(RuleSet.chain) is missing"]
        }
        if rules != expected {
            let have = rules.map(\.description).joined(separator: ", ")
            let want = expected.map(\.description).joined(separator: ", ")
            problems.append("\(place) chain \(RuleSet.chain) changed: [\(have)] instead of [\(want)]")
        }
        return problems
    }
}
