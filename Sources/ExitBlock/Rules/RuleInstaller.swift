/// Puts a `RuleSet` into the kernel and takes it out again, through iptables-save and
/// iptables-restore (`--noflush`: only exitblock's chain and its jumps change; each family's
/// change is one transaction: one table replace for legacy, one nf_tables batch for nft).
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
        /// The chain did not exist before.
        public var created: Bool
        /// Hooks that got their jump now (the others had it already).
        public var hooksAdded: [RuleSettings.Hook]
        /// Jumps deleted from INPUT/FORWARD (repeats, or hooks no longer configured).
        public var jumpsDeleted: Int
        /// Rules in the chain.
        public var ruleCount: Int
        /// Installed lines that differ from the plan as iptables-save prints them (should be
        /// empty; a difference means the tool spells a rule differently, not that it failed).
        public var differences: [String]
    }

    /// What `remove` did for one family.
    public struct RemoveReport: Sendable, Equatable {
        public var family: RuleSettings.Family
        /// False when the chain was not there (nothing was changed).
        public var removed: Bool
        /// Jumps to the chain that were deleted.
        public var jumpsDeleted: Int
    }

    /// The filter table of `family` as it is now.
    public func table(_ family: RuleSettings.Family) throws(RulesError) -> FilterTable {
        guard let path = tools.save[family] else {
            throw .toolMissing(name: "\(tools.name(family))-save", searched: [])
        }
        let result = try runner.run(path, ["-t", "filter"], input: nil)
        guard result.status == 0 else {
            throw .commandFailed(
                command: "\(path) -t filter",
                status: result.status,
                message: result.errorOutput,
                failedRule: nil
            )
        }
        return FilterTable(save: result.output)
    }

    /// Feeds `script` to iptables-restore --noflush. On failure, the error carries the line
    /// the tool names ("Error occurred at line: N", "line N failed") and its message.
    public func apply(_ script: [String], family: RuleSettings.Family) throws(RulesError) {
        guard let path = tools.restore[family] else {
            throw .toolMissing(name: "\(tools.name(family))-restore", searched: [])
        }
        // -w: wait for the xtables lock instead of failing (legacy; nft accepts and ignores it).
        let arguments = ["-w", "5", "--noflush"]
        let result = try runner.run(path, arguments, input: script.joined(separator: "\n") + "\n")
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

    /// Installs `rules` for `family` (see `RuleSet.installScript`), then reads the table back.
    public func install(_ rules: RuleSet, family: RuleSettings.Family) throws(RulesError) -> InstallReport {
        let before = try table(family)
        let script = rules.installScript(for: family, current: before)
        try apply(script, family: family)
        let after = try table(family)
        let planned = rules.listing(for: family)
        let installed = RuleSet.listing(installed: after) ?? []
        var differences = installed.filter { !planned.contains($0) }.map { "installed: \($0)" }
        differences += planned.filter { !installed.contains($0) }.map { "planned:   \($0)" }
        return InstallReport(
            family: family,
            created: !before.chains.contains(RuleSet.chain),
            hooksAdded: rules.hooks.filter { hook in script.contains("-I \(hook.chain) 1 -j \(RuleSet.chain)") },
            jumpsDeleted: script.filter { $0.hasPrefix("-D ") }.count,
            ruleCount: rules.chainRules(for: family).count,
            differences: differences
        )
    }

    /// Removes exitblock's chain and every jump to it from `family`'s filter table.
    public func remove(family: RuleSettings.Family) throws(RulesError) -> RemoveReport {
        let current = try table(family)
        guard let script = RuleSet.removeScript(current: current) else {
            return RemoveReport(family: family, removed: false, jumpsDeleted: 0)
        }
        try apply(script, family: family)
        return RemoveReport(family: family, removed: true, jumpsDeleted: script.filter { $0.hasPrefix("-D ") }.count)
    }

    /// The installed rules of `family` as `rules show` prints them; nil when not installed.
    public func installedListing(family: RuleSettings.Family) throws(RulesError) -> [String]? {
        RuleSet.listing(installed: try table(family))
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
