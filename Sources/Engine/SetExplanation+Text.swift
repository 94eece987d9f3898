import ExitSet

extension SetExplanation {
    /// The answer as `exitblock check --socket` prints it: a first line starting with
    /// `blocked:` or `not blocked:` (the same words as `check --list`), then one line per
    /// source, the allowlist entry and the policy in force. `now` (Unix seconds) dates the
    /// sources' refreshes.
    public func lines(now: Double) -> [String] {
        let target = port.map { "\(address) port \($0)/\(transport)" } ?? address
        var first: String
        switch decision {
        case "allowlisted":
            first = "not blocked: \(address) is allowlisted by \(allowlistEntry ?? "?")"
            if let entry { first += "; the allowlist wins over \(entry)" }
        case "outsidePolicy":
            let what = relayPorts ? "its relay ports (ORPort, DirPort) leave out" : "its exit policy leaves out"
            first = "not blocked: \(address) matches \(entry ?? "?"), but \(what) \(target)"
        case "listedSource", "listedDestination":
            first = "blocked: \(target) matches \(entry ?? "?") (\(verdict)\(dryRun ? ", dry-run: accepted" : ""))"
        default:
            first =
                entry.map { "not blocked: \(address) matches \($0), but the policy does not judge it" }
                ?? "not blocked: \(address) is in no list (\(setIPv4Entries + setIPv6Entries) entries)"
        }
        var lines = [first]
        for source in sources {
            var line = "  listed by \(source.source)"
            if !source.policy.isEmpty { line += ", policy \(source.policy)" }
            line += ", " + Self.refreshed(source, now: now)
            lines.append(line)
        }
        if entry != nil && sources.isEmpty { lines.append("  listed by no source known to the daemon") }
        if let policy { lines.append("  policy of \(address) (union): \(policy)") }
        if let allowlistEntry, decision != "allowlisted" { lines.append("  allowlist entry \(allowlistEntry)") }
        lines.append(
            "  judged by the running daemon: match \(match)\(exitPolicy ? ", exit-policy" : "")"
                + "\(relayPorts ? ", relay ports" : "")\(dryRun ? ", dry-run" : ""); "
                + "set generation \(setGeneration), \(setIPv4Entries) IPv4 and \(setIPv6Entries) IPv6 entries"
        )
        return lines
    }

    /// "last good version 12m ago (STALE)" for one source.
    static func refreshed(_ source: Source, now: Double) -> String {
        guard source.lastSuccess > 0 else { return "no good version known" }
        var text = "last good version \(ago(now - source.lastSuccess)) ago"
        if source.lastAttempt > source.lastSuccess + 1 {
            text += ", last attempt \(ago(now - source.lastAttempt)) ago"
        }
        if source.stale { text += " (STALE)" }
        return text
    }

    /// Seconds as "42s", "12m", "3h05m".
    static func ago(_ seconds: Double) -> String {
        let whole = Int(max(0, seconds).rounded())
        if whole < 120 { return "\(whole)s" }
        if whole < 7200 { return "\(whole / 60)m" }
        let minutes = (whole / 60) % 60
        return "\(whole / 3600)h" + (minutes < 10 ? "0" : "") + "\(minutes)m"
    }
}
