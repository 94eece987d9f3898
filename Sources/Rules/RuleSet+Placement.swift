extension RuleSet {
    /// Where exitblock's installed rules sit in one family's netfilter pipeline, and what the
    /// operator's rules see before and after them: the `# where:` lines of `rules show`.
    /// Reads only the tables; the same text for both layouts (the old one gets a warning).
    public static func placement(mangle: SavedTable, filter: SavedTable) -> [String] {
        (queuePlacement(mangle: mangle) + filterPlacement(filter: filter)).map { "# where: " + $0 }
    }

    /// The queue table's jumps (one per hook) and what sees packets before and after them.
    private static func queuePlacement(mangle: SavedTable) -> [String] {
        var lines: [String] = []
        func say(_ text: String) { lines.append(text) }
        for hook in RuleSettings.Hook.allCases {
            let own = mangle.rules(of: hook.chain)
            guard let index = own.firstIndex(where: { $0.target == chain }) else { continue }
            let hookName = hook.rawValue
            say(
                "\(queueTable) \(hook.chain) (hook \(hookName), priority -150): the jump to \(chain) is rule "
                    + "\(index + 1) of \(own.count)"
            )
            say(
                "  before it: \(index) rule(s) of \(queueTable) \(hook.chain) (and the raw table, conntrack) see "
                    + "every packet, listed ones too"
            )
            let after = own.count - index - 1
            if after > 0 {
                say(
                    "  warning: \(after) rule(s) after it in \(queueTable) \(hook.chain) never see packets exitblock "
                        + "accepts (an accept ends the table's chain); `exitblock rules install` moves the jump last"
                )
            }
            say(
                "  after it: filter \(hook.chain) (priority 0) and security (50) see every packet exitblock does not "
                    + "drop, with their counters and policy, daemon running or stopped with --queue-bypass"
            )
        }
        return lines
    }

    /// The reject (filter) chain's jumps, or the warning of the old layout.
    private static func filterPlacement(filter: SavedTable) -> [String] {
        var lines: [String] = []
        func say(_ text: String) { lines.append(text) }
        let filterChain = filter.rules(of: chain)
        if hasOldLayout(filter: filter) {
            say(
                "warning: old layout: \(rejectTable) \(chain) queues packets, and an accept there ends every "
                    + "operator rule after the jump (drops, policy); `exitblock rules install` moves it to \(queueTable)"
            )
        } else if filter.chains.contains(chain) {
            let marks = filterChain.filter { $0.target != "RETURN" }.compactMap { rule -> String? in
                let words = SavedTable.words(rule.spec).map(\.text)
                guard let at = words.firstIndex(of: "--mark"), at + 1 < words.count else { return nil }
                return words[at + 1]
            }
            let mark = RuleSet.unique(marks).joined(separator: ", ")
            for hook in RuleSettings.Hook.allCases {
                let own = filter.rules(of: hook.chain)
                guard let index = own.firstIndex(where: { $0.target == chain }) else { continue }
                let cache = filterChain.filter { $0.spec.contains("--add-set ") }
                if cache.isEmpty {
                    say(
                        "\(rejectTable) \(hook.chain) (priority 0): the jump to the reject chain is rule \(index + 1) "
                            + "of \(own.count): packets the daemon marked \(mark) are REJECTed before the operator's "
                            + "rules; every other packet returns at once"
                    )
                } else {
                    let rejects = filterChain.contains { $0.target == "REJECT" }
                    say(
                        "\(rejectTable) \(hook.chain) (priority 0): the jump to exitblock's filter chain is rule "
                            + "\(index + 1) of \(own.count): packets the daemon marked \(mark) enter the drop cache "
                            + "and are \(rejects ? "REJECTed" : "dropped") before the operator's rules; every other "
                            + "packet returns at once"
                    )
                }
                if index > 0 {
                    say(
                        "  warning: \(index) rule(s) before it may accept marked packets; "
                            + "`exitblock rules install` puts the jump first"
                    )
                }
            }
        }
        return lines
    }
}
