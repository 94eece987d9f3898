import Synchronization

extension RuleWatch {
    /// The restorer that puts `configuration`'s layout back as `rules install` does
    /// (`RuleInstaller.install`: iptables-restore --noflush, ipset for missing sets). This is
    /// the one place the running daemon starts programs, and only with --restore-rules: the
    /// x_tables and iptables-nft rule encodings stay the tools' job. The restore goes through
    /// the backend the watch read the family's tables from; its tools are located at its
    /// first restore and kept.
    public static func installerRestorer(for configuration: Configuration) -> Restorer {
        let located = Mutex<[RuleSettings.Backend: IptablesTools]>([:])
        let rules = configuration.rules
        return { family, backend throws(RulesError) in
            let tools = try located.withLock {
                (known: inout [RuleSettings.Backend: IptablesTools]) throws(RulesError) in
                if let tools = known[backend] { return tools }
                let found = try IptablesTools.locate(backend, families: rules.families)
                known[backend] = found
                return found
            }
            _ = try RuleInstaller(tools: tools).install(rules, family: family)
        }
    }
}
