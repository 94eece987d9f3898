import ArgumentParser
import Engine
import Foundation
import LinuxSystem
import Rules

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Install, remove or show the iptables/ip6tables rules that queue traffic to exitblock.",
        discussion: """
            The queue rules live in a chain of their own, EXITBLOCK in the mangle table (priority \
            -150; iptables and ip6tables), which INPUT and/or FORWARD jump to from their end: an \
            accept there ends only mangle's chain, so the operator's filter rules still see every \
            packet exitblock does not drop. With --reject, an EXITBLOCK chain of the filter table, \
            jumped to first, REJECTs the packets the daemon marked. install is idempotent and \
            replaces both in one iptables-restore input per family (it also moves the old layout, \
            a queue chain in filter, to mangle); remove takes the chains and every jump to them \
            out again, of either layout. show prints the rules and where they sit. All three take \
            the same options, so one set of arguments (or one config) serves them all; remove \
            only looks at --family and --backend.
            """,
        subcommands: [Install.self, Remove.self, Show.self]
    )

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install (or update) exitblock's chains and their jumps; running it twice changes nothing.",
            discussion: """
                For each family: creates or empties mangle's EXITBLOCK chain and fills it, and \
                leaves each configured hook with one jump to it as its last rule (appended, or \
                moved there); with --reject the same in filter with the jump first; without it, \
                a filter EXITBLOCK chain (the old layout or an earlier --reject) is deleted. Other \
                jumps from INPUT/FORWARD (repeats, hooks no longer configured) are deleted. All in \
                one iptables-restore --noflush input: one transaction with iptables-nft, one per \
                table (mangle first) with iptables-legacy. Needs root. With --config FILE, the \
                [rules] table of the file gives the options.
                """
        )

        @OptionGroup var options: RuleOptions

        @OptionGroup var configFile: ConfigFileOption

        func run() throws {
            let rules = try RulesCommand.ruleSet(options)
            let installer = try RulesCommand.installer(rules.settings, action: "rules install")
            for family in rules.families {
                let tool = installer.tools.name(family)
                let report: RuleInstaller.InstallReport
                do {
                    report = try installer.install(rules, family: family)
                } catch {
                    Output.error("\(family) (\(tool)): \(error)")
                    throw ExitCode(Status.failure)
                }
                var text = "\(family) (\(tool)): \(RuleSet.queueTable) \(RuleSet.chain) "
                text += "\(report.created ? "created" : "replaced") with \(report.ruleCount) rule(s)"
                let hooks = rules.hooks.map(\.chain)
                let added = report.hooksAdded.map(\.chain)
                if !added.isEmpty { text += "; jump appended to \(added.joined(separator: ", "))" }
                let kept = hooks.filter { !added.contains($0) }
                if !kept.isEmpty {
                    text += "; \(kept.joined(separator: ", ")) already \(kept.count == 1 ? "jumps" : "jump") to it last"
                }
                if report.rejectRuleCount > 0 {
                    text += "; \(RuleSet.rejectTable) \(RuleSet.chain) with \(report.rejectRuleCount) rule(s)"
                }
                if rules.settings.dropCache {
                    text +=
                        "; drop cache \(RuleSet.dropCacheSet(family)) (timeout \(rules.settings.dropCacheTimeout) s)"
                }
                if rules.hasAcceptCache {
                    text +=
                        "; accept cache \(RuleSet.acceptCacheSet(family)) (timeout \(rules.settings.acceptCacheTimeout) s, "
                        + "size \(rules.settings.acceptCacheSize))"
                }
                if report.jumpsDeleted > 0 { text += "; \(report.jumpsDeleted) other jump(s) deleted" }
                if report.oldLayoutReplaced { text += "; the old layout (queue in the filter table) is gone" }
                Output.line(text)
                for difference in report.differences {
                    Output.message("warning: \(family): the rules read back differ from the plan: \(difference)")
                }
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete exitblock's chains and every jump to them; fine when nothing is installed.",
            discussion: """
                Leaves the mangle and filter tables as they were before install, whichever layout \
                was installed (also the old one, a queue chain in filter). Exit status 0 also when \
                the rules are not installed. Needs root.
                """
        )

        @OptionGroup var options: RuleOptions

        func run() throws {
            let settings = options.settings
            let installer = try RulesCommand.installer(settings, action: "rules remove")
            for family in settings.families.sorted() {
                let tool = installer.tools.name(family)
                do {
                    let report = try installer.remove(family: family)
                    if report.removed {
                        let tables = report.tables.joined(separator: " and ")
                        var line =
                            "\(family) (\(tool)): removed \(RuleSet.chain) from \(tables) and \(report.jumpsDeleted) "
                        line += "jump(s) to it"
                        for table in report.tablesDeleted { line += "; table \(table) deleted (nothing else in it)" }
                        Output.line(line)
                    } else {
                        Output.line("\(family) (\(tool)): not installed, nothing to remove")
                    }
                } catch {
                    Output.error("\(family) (\(tool)): \(error)")
                    throw ExitCode(Status.failure)
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print the installed rules, the rules install would add (--dry-run), or an nftables equivalent (--nft).",
            discussion: """
                Rules are printed as iptables-save prints them, under a "# ipv4" / "# ipv6" line \
                and a "*mangle" / "*filter" line per table, so the rules show prints after install \
                equal those of show --dry-run. After them, show (not --dry-run) prints "# where:" \
                lines: the hook, table and priority of each jump, its position among the hook's \
                rules, what the operator's rules before and after it see, and warnings (rules after \
                the mangle jump, the old layout). Exit status 1 when the rules are not installed \
                for a selected family. --dry-run and --nft need neither root nor iptables.
                """
        )

        @OptionGroup var options: RuleOptions

        @Flag(help: "Print the rules install would add, from the options, instead of the installed ones.")
        var dryRun = false

        @Flag(help: "Print an equivalent native nftables ruleset (table inet exitblock), from the options.")
        var nft = false

        func run() throws {
            let rules = try RulesCommand.ruleSet(options)
            if nft {
                Output.write(rules.nftablesRuleset)
                return
            }
            if dryRun {
                for family in rules.families {
                    Output.line("# \(family)")
                    for line in rules.listing(for: family) { Output.line(line) }
                }
                return
            }
            let installer = try RulesCommand.installer(rules.settings, action: "rules show")
            var missing = false
            for family in rules.families {
                let listing: [String]?
                do {
                    listing = try installer.installedListing(family: family)
                } catch {
                    Output.error("\(family) (\(installer.tools.name(family))): \(error)")
                    throw ExitCode(Status.failure)
                }
                Output.line("# \(family)")
                if let listing {
                    for line in listing { Output.line(line) }
                } else {
                    Output.message(
                        "\(family) (\(installer.tools.name(family))): not installed (no \(RuleSet.chain) chain in mangle "
                            + "or filter)"
                    )
                    missing = true
                }
            }
            if missing { throw ExitCode(1) }
        }
    }

    /// The checked rule set of `options` (already validated by the parser; this cannot fail).
    static func ruleSet(_ options: RuleOptions) throws -> RuleSet {
        do { return try RuleSet(options.settings) } catch {
            Output.error("--\(error)")
            throw ExitCode(Status.failure)
        }
    }

    /// Checks the privilege, then finds the backend's tools.
    static func installer(_ settings: RuleSettings, action: String) throws -> RuleInstaller {
        guard Privilege.hasNetAdmin else {
            Output.error("\(action) needs root (or CAP_NET_ADMIN) to read and change the firewall")
            throw ExitCode(Status.failure)
        }
        do {
            return RuleInstaller(
                tools: try IptablesTools.locate(settings.backend, families: settings.families.sorted())
            )
        } catch {
            Output.error("\(error)")
            throw ExitCode(Status.failure)
        }
    }
}

/// Whether this process may change the firewall.
enum Privilege {
    /// Root, or CAP_NET_ADMIN (bit 12) in the effective set of /proc/self/status.
    static var hasNetAdmin: Bool {
        if CurrentProcess.effectiveUserID == 0 { return true }
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << 12) != 0
    }
}
