import ExitBlockConfiguration
import ArgumentParser
import Engine
import Rules

/// `run`'s options for the rule watch: which layout it expects and whether it restores it.
/// The layout is `rules install`'s, from the same settings: the config file's `[rules]` table
/// (when `--config` is given), with the queues, mode, match, reject mark and caches `run`
/// itself was given (the rules must agree with the daemon on those).
struct RuleWatchOptions: ParsableArguments {
    /// `--watch-rules`.
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        /// Watch each family once its layout was seen complete (a daemon run with hand-made
        /// rules is not called unhealthy).
        case auto
        /// Watch from the start: a family without the layout is unhealthy.
        case on
        /// Do not watch.
        case off
    }

    @Option(
        help: ArgumentHelp(
            "Watch exitblock's rules and sets (no program run per look): auto watches a family once its "
                + "`rules install` layout was seen complete, on requires it from the start, off does not watch. "
                + "Missing or changed rules make /healthz answer 503 and set exitblock_rules_intact to 0.",
            valueName: "auto|on|off"
        )
    )
    var watchRules: Mode = .auto

    @Flag(
        help: ArgumentHelp(
            "Put the `rules install` layout back (through iptables-restore and ipset, the one time the daemon "
                + "runs a program) within a second when it is missing; off by default, as a firewall manager may "
                + "own the ruleset. Needs the daemon to run as root, without --user."
        )
    )
    var restoreRules = false

    /// The watch's configuration for a daemon given these run options; nil when off. Throws
    /// when the `[rules]` table or the run options do not make a valid rule set.
    func configuration(
        configPath: String?,
        queues: [ClosedRange<UInt16>],
        mode: FilterMode,
        match: MatchDirection,
        reject: (mark: UInt32, mask: UInt32)?,
        dropCache: Bool,
        acceptCache: Bool
    ) throws -> RuleWatch.Configuration? {
        guard watchRules != .off || restoreRules else { return nil }
        var arguments: [String] = []
        if let configPath {
            let schema = ConfigSchema.load(root: ExitBlockCommand.self)
            let file = try ConfigFile(path: configPath, schema: schema)
            arguments = file.arguments(of: "rules")
        }
        var settings = try RuleOptions.parse(arguments).settings
        let numbers = queues.flatMap { Array($0) }.sorted()
        if let first = numbers.first, let last = numbers.last, Int(last) - Int(first) + 1 == numbers.count {
            settings.queues = first...last
        }
        settings.mode = mode == .flow ? .flow : .packet
        settings.match = match
        settings.reject = reject != nil
        if let reject { (settings.rejectMark, settings.rejectMask) = reject }
        settings.dropCache = dropCache
        settings.acceptCache = acceptCache
        return RuleWatch.Configuration(
            rules: try RuleSet(settings),
            backend: settings.backend,
            required: watchRules == .on,
            restore: restoreRules
        )
    }
}
