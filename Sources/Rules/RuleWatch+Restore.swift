import Synchronization

extension RuleWatch {
    /// The restorer that puts `configuration`'s layout back as `rules install` does
    /// (`RuleInstaller.install`: iptables-restore --noflush, ipset for missing sets). This is
    /// the one place the running daemon starts programs, and only with --restore-rules: the
    /// x_tables and iptables-nft rule encodings stay the tools' job. The tools are located at
    /// the first restore and kept.
    public static func installerRestorer(for configuration: Configuration) -> Restorer {
        let located = Mutex<IptablesTools?>(nil)
        let rules = configuration.rules
        return { family throws(RulesError) in
            let tools = try located.withLock { (tools: inout IptablesTools?) throws(RulesError) -> IptablesTools in
                if let tools { return tools }
                let found = try IptablesTools.locate(configuration.backend, families: rules.families)
                tools = found
                return found
            }
            _ = try RuleInstaller(tools: tools).install(rules, family: family)
        }
    }
}
