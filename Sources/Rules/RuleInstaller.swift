import LinuxSystem
/// Puts a `RuleSet` into the kernel and takes it out again, through iptables-save and
/// iptables-restore (`--noflush`: only exitblock's chains and their jumps change). Each
/// family's change is one restore input holding the mangle and the filter table: iptables-nft
/// applies it as one nf_tables batch (one transaction); iptables-legacy replaces each table at
/// its COMMIT (one transaction per table, mangle first).
public struct RuleInstaller: Sendable {
    /// The backend's programs.
    public let tools: IptablesTools
    let runner: any CommandRunning

    public init(tools: IptablesTools, runner: any CommandRunning = ProcessRunner()) {
        self.tools = tools
        self.runner = runner
    }

    /// What `install` did for one family.
    public struct InstallReport: Sendable, Equatable {
        public var family: RuleSettings.Family
        /// The mangle chain did not exist before.
        public var created: Bool
        /// Hooks whose mangle jump was added or moved to the end now (the others had it last).
        public var hooksAdded: [RuleSettings.Hook]
        /// Jumps deleted (repeats, misplaced ones, hooks no longer configured, the old layout's).
        public var jumpsDeleted: Int
        /// Rules in the mangle chain.
        public var ruleCount: Int
        /// Rules in the filter chain (reject); 0 without reject.
        public var rejectRuleCount: Int
        /// The old layout (filter-table queue chain) was there and is gone now.
        public var oldLayoutReplaced: Bool
        /// Installed lines that differ from the plan as iptables-save prints them (should be
        /// empty; a difference means the tool spells a rule differently, not that it failed).
        public var differences: [String]
    }

    /// What `remove` did for one family.
    public struct RemoveReport: Sendable, Equatable {
        public var family: RuleSettings.Family
        /// False when no chain was there (nothing was changed).
        public var removed: Bool
        /// Jumps to the chains that were deleted.
        public var jumpsDeleted: Int
        /// Tables the chain was removed from (`mangle`, `filter`).
        public var tables: [String]
        /// Tables deleted after it (iptables-nft): left holding nothing, as install found them
        /// absent.
        public var tablesDeleted: [String] = []
    }

    /// The table `name` (mangle, filter) of `family` as it is now.
    public func table(_ family: RuleSettings.Family, _ name: String = "filter") throws(RulesError) -> SavedTable {
        guard let path = tools.save[family] else {
            throw .toolMissing(name: "\(tools.name(family))-save", searched: [])
        }
        let result = try runner.runTool(path, ["-t", name], input: nil)
        guard result.status == 0 else {
            throw .commandFailed(
                command: "\(path) -t \(name)",
                status: result.status,
                message: result.errorOutput,
                failedRule: nil
            )
        }
        return SavedTable(save: result.output, table: name)
    }

    /// The mangle and filter tables of `family`.
    func tables(_ family: RuleSettings.Family) throws(RulesError) -> (mangle: SavedTable, filter: SavedTable) {
        (try table(family, RuleSet.queueTable), try table(family, RuleSet.rejectTable))
    }

    /// Feeds `script` to iptables-restore --noflush (without it when `flush`: each table of
    /// the script is replaced). On failure, the error carries the line the tool names ("Error
    /// occurred at line: N", "line N failed") and its message.
    public func apply(_ script: [String], family: RuleSettings.Family, flush: Bool = false) throws(RulesError) {
        guard let path = tools.restore[family] else {
            throw .toolMissing(name: "\(tools.name(family))-restore", searched: [])
        }
        // -w: wait for the xtables lock instead of failing (legacy; nft accepts and ignores it).
        let arguments = ["-w", "5"] + (flush ? [] : ["--noflush"])
        let result = try runner.runTool(path, arguments, input: script.joined(separator: "\n") + "\n")
        guard result.status == 0 else {
            let line = RuleInstaller.failedLine(in: result.errorOutput).flatMap { number in
                number >= 1 && number <= script.count ? script[number - 1] : nil
            }
            throw .commandFailed(
                command: ([path] + arguments).joined(separator: " "),
                status: result.status,
                message: result.errorOutput,
                failedRule: line
            )
        }
    }

    /// Installs `rules` for `family` (see `RuleSet.installScript`), then reads the tables back.
    /// With the drop cache, its sets (cache and allowlist mirror) are created first (the rules
    /// name them); without, sets left by an earlier install are destroyed once no rule names them.
    public func install(_ rules: RuleSet, family: RuleSettings.Family) throws(RulesError) -> InstallReport {
        let before = try tables(family)
        let script = rules.installScript(for: family, mangle: before.mangle, filter: before.filter)
        if rules.settings.dropCache || rules.hasAcceptCache {
            let sets = try DropCacheSets.locate(runner: runner)
            if rules.settings.dropCache {
                try sets.ensure(rules.dropCacheCreateLine(for: family))
                try sets.ensure(rules.dropCacheAllowCreateLine(for: family))
            }
            if rules.hasAcceptCache { try sets.ensure(rules.acceptCacheCreateLine(for: family)) }
        }
        try apply(script, family: family)
        if !rules.settings.dropCache && RuleInstaller.usesDropCache(before.mangle, family) {
            try destroyDropCache(family)
        }
        if !rules.hasAcceptCache && RuleInstaller.usesAcceptCache(before.mangle, family) {
            try destroyAcceptCache(family)
        }
        let after = try tables(family)
        let planned = rules.listing(for: family)
        let installed = RuleSet.listing(mangle: after.mangle, filter: after.filter) ?? []
        var differences = installed.filter { !planned.contains($0) }.map { "installed: \($0)" }
        differences += planned.filter { !installed.contains($0) }.map { "planned:   \($0)" }
        let mangleScript = script.prefix { $0 != "COMMIT" }
        return InstallReport(
            family: family,
            created: !before.mangle.chains.contains(RuleSet.chain),
            hooksAdded: rules.hooks.filter { hook in mangleScript.contains("-A \(hook.chain) -j \(RuleSet.chain)") },
            jumpsDeleted: script.filter { $0.hasPrefix("-D ") }.count,
            ruleCount: rules.queueRules(for: family).count,
            rejectRuleCount: rules.filterRules(for: family).count,
            oldLayoutReplaced: RuleSet.hasOldLayout(filter: before.filter),
            differences: differences
        )
    }

    /// Removes exitblock's chains and every jump to them from `family`'s mangle and filter
    /// tables (both layouts).
    public func remove(family: RuleSettings.Family) throws(RulesError) -> RemoveReport {
        let current = try tables(family)
        guard let script = RuleSet.removeScript(mangle: current.mangle, filter: current.filter) else {
            return RemoveReport(family: family, removed: false, jumpsDeleted: 0, tables: [])
        }
        try apply(script, family: family)
        if RuleInstaller.usesDropCache(current.mangle, family) { try destroyDropCache(family) }
        if RuleInstaller.usesAcceptCache(current.mangle, family) { try destroyAcceptCache(family) }
        let tables = script.filter { $0.hasPrefix("*") }.map { String($0.dropFirst()) }
        return RemoveReport(
            family: family,
            removed: true,
            jumpsDeleted: script.filter { $0.hasPrefix("-D ") }.count,
            tables: tables,
            tablesDeleted: try deleteWhatHoldsNothing(after: script, family: family)
        )
    }

    /// With iptables-nft, what `rules install` created and the removal left holding nothing:
    /// each built-in chain a jump was deleted from that has no rule left and policy ACCEPT
    /// (iptables-nft creates a base chain, hooked, on its first rule; the operator had none,
    /// or one that changed nothing), and each table of `script` that holds nothing at all
    /// (a restore without --noflush of an empty table section deletes the table in
    /// nf_tables). iptables-legacy cannot unload a table: nothing to do there. Returns the
    /// tables deleted.
    func deleteWhatHoldsNothing(after script: [String], family: RuleSettings.Family) throws(RulesError) -> [String] {
        guard tools.backend == .nft else { return [] }
        var deleted: [String] = []
        for (name, chains) in Self.jumpSources(in: script) {
            let table = try table(family, name)
            guard !table.chains.isEmpty else { continue }
            if table.holdsNothing {
                try apply(["*\(name)", "COMMIT"], family: family, flush: true)
                deleted.append(name)
                continue
            }
            let emptied = chains.filter { chain in
                table.policies[chain] == "ACCEPT" && table.rules(of: chain).isEmpty
            }
            if !emptied.isEmpty { try apply(["*\(name)"] + emptied.map { "-X \($0)" } + ["COMMIT"], family: family) }
        }
        return deleted
    }

    /// Each table of a restore `script`, in order, with the chains its `-D` lines delete from.
    static func jumpSources(in script: [String]) -> [(table: String, chains: [String])] {
        var tables: [(table: String, chains: [String])] = []
        for line in script {
            if line.hasPrefix("*") {
                tables.append((String(line.dropFirst()), []))
            } else if line.hasPrefix("-D "), let chain = line.split(separator: " ").dropFirst().first, !tables.isEmpty {
                let name = String(chain)
                if !tables[tables.count - 1].chains.contains(name) { tables[tables.count - 1].chains.append(name) }
            }
        }
        return tables
    }

    /// The installed rules of `family` as `rules show` prints them, then where they sit (the
    /// `# where:` lines); nil when not installed.
    public func installedListing(family: RuleSettings.Family) throws(RulesError) -> [String]? {
        let current = try tables(family)
        guard let listing = RuleSet.listing(mangle: current.mangle, filter: current.filter) else { return nil }
        return listing + RuleSet.placement(mangle: current.mangle, filter: current.filter)
    }

    /// Whether exitblock's mangle chain of `mangle` looks up `family`'s drop-cache set (the
    /// set is then ours to destroy once the rules are gone).
    static func usesDropCache(_ mangle: SavedTable, _ family: RuleSettings.Family) -> Bool {
        mangle.rules(of: RuleSet.chain).contains { $0.spec.contains("--match-set \(RuleSet.dropCacheSet(family)) ") }
    }

    /// Whether exitblock's mangle chain of `mangle` looks up `family`'s accept-cache set.
    static func usesAcceptCache(_ mangle: SavedTable, _ family: RuleSettings.Family) -> Bool {
        mangle.rules(of: RuleSet.chain).contains { $0.spec.contains("--match-set \(RuleSet.acceptCacheSet(family)) ") }
    }

    /// Destroys `family`'s accept-cache set if it is there (no rule of ours names it any more).
    func destroyAcceptCache(_ family: RuleSettings.Family) throws(RulesError) {
        guard let sets = try? DropCacheSets.locate(runner: runner) else { return }
        try sets.destroy(RuleSet.acceptCacheSet(family))
    }

    /// Destroys `family`'s drop-cache set if it is there (no rule of ours names it any more).
    /// Without the ipset program there can be no set: nothing to do.
    func destroyDropCache(_ family: RuleSettings.Family) throws(RulesError) {
        guard let sets = try? DropCacheSets.locate(runner: runner) else { return }
        try sets.destroy(RuleSet.dropCacheSet(family))
        try sets.destroy(RuleSet.dropCacheAllowSet(family))
    }

    /// The input line number in an iptables-restore error message, if any.
    static func failedLine(in message: String) -> Int? {
        for line in message.split(separator: "\n") {
            if let range = line.range(of: "Error occurred at line: ") {
                return Int(line[range.upperBound...].trimmingCharacters(in: .whitespaces))
            }
            // "iptables-restore: line 5 failed" (the kernel refused the table at COMMIT).
            if let range = line.range(of: ": line "), line.hasSuffix(" failed") {
                return Int(line[range.upperBound...].dropLast(" failed".count))
            }
        }
        return nil
    }
}
