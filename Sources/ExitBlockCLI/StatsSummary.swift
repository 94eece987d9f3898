import BGPFeed
import Daemon
import Engine
import Stats

/// The human-readable view of the stats, from two samples (rates are over the time between
/// them) or one (totals only). Pure: `stats` prints it once, `top` redraws it every second.
struct StatsSummary {
    let current: StatsJSON
    let previous: StatsJSON?

    /// The summary, one string per line.
    var lines: [String] {
        let stats = current.stats
        var lines: [String] = []
        let health =
            (current.healthy ? "healthy" : "UNHEALTHY: " + current.problems.joined(separator: "; "))
            + stats.warnings.map { "; WARNING: " + $0 }.joined()
        lines.append(
            "exitblock \(stats.build.version), up \(Self.duration(stats.time - stats.processStart)), \(health)"
        )
        if let bgp = stats.bgp, stats.queues.isEmpty { return lines + feedLines(bgp) }
        let packets = stats.total(.packets)
        let dropped = stats.total(.dropped)
        if let previous, stats.time > previous.stats.time {
            let seconds = stats.time - previous.stats.time
            func rate(_ counter: Counter) -> Double {
                Double(stats.total(counter) &- previous.stats.total(counter)) / seconds
            }
            let packetRate = rate(.packets)
            let dropRate = rate(.dropped)
            let bursts = Double(stats.totalBursts &- previous.stats.totalBursts) / seconds
            lines.append(
                "rates over \(Self.fixed(seconds, decimals: 1)) s: \(Self.number(packetRate)) packets/s, "
                    + "\(Self.number(rate(.accepted))) accepted/s, \(Self.number(dropRate)) dropped/s "
                    + "(\(Self.percent(dropRate, of: packetRate))), "
                    + "\(Self.number(bursts)) bursts/s (\(bursts > 0 ? Self.fixed(packetRate / bursts, decimals: 1) : "-") per burst)"
            )
            if stats.policy.action == "reject" || stats.policy.dryRun || stats.total(.allowlisted) > 0 {
                lines.append(
                    "  \(Self.number(rate(.rejected))) rejected/s, \(Self.number(rate(.wouldDrop))) would-drop/s, "
                        + "\(Self.number(rate(.allowlisted))) allowlisted/s"
                )
            }
        } else {
            lines.append("rates: need a second sample")
        }
        lines.append(
            "totals: packets=\(packets) accepted=\(stats.total(.accepted)) dropped=\(dropped) "
                + "(\(Self.percent(Double(dropped), of: Double(packets)))) unparsable=\(stats.total(.packets, .unparsable))"
        )
        if let rules = stats.rules { lines.append(Self.rulesLine(rules)) }
        let policy = stats.policy
        var mode = "policy: match \(policy.match), \(policy.action)"
        if let mark = policy.rejectMark { mode += " (mark 0x\(String(mark, radix: 16)))" }
        if policy.dryRun { mode += " (dry-run)" }
        let allowlistEntries = policy.allowlistIPv4Entries + policy.allowlistIPv6Entries
        lines.append(
            mode + "; allowlist \(allowlistEntries) entries; allowlisted=\(stats.total(.allowlisted)) "
                + "rejected=\(stats.total(.rejected)) would_drop=\(stats.total(.wouldDrop))"
                + (stats.total(.rejectReturned) > 0
                    ? " reject_returned=\(stats.total(.rejectReturned)) (REJECT rule missing?)" : "")
                + (stats.total(.outsidePolicy) > 0 ? " outside_policy=\(stats.total(.outsidePolicy))" : "")
                + (stats.total(.policyPortsUnread) > 0
                    ? " policy_ports_unread=\(stats.total(.policyPortsUnread))" : "")
        )
        if let cache = stats.dropCache {
            var line = "drop cache: \(cache.entriesIPv4 + cache.entriesIPv6) entries; "
            line += "dropped in the kernel=\(cache.kernelDrops) "
            line += "(user space dropped=\(dropped) rejected=\(stats.total(.rejected)))"
            if let previous, let before = previous.stats.dropCache, stats.time > previous.stats.time {
                let rate = Double(cache.kernelDrops &- before.kernelDrops) / (stats.time - previous.stats.time)
                line += ", \(Self.number(rate)) kernel drops/s"
            }
            line += "; pruned \(cache.entriesDeleted) in \(cache.prunes) publishes"
            if cache.errors > 0 { line += "; \(cache.errors) errors" }
            lines.append(line)
            if let accept = cache.accept {
                var line = "accept cache: \(accept.entriesIPv4 + accept.entriesIPv6) entries; "
                line += "accepted in the kernel=\(accept.kernelAccepts) "
                line += "(user space accepted=\(stats.total(.accepted)))"
                if let previous, let before = previous.stats.dropCache?.accept, stats.time > previous.stats.time {
                    let rate = Double(accept.kernelAccepts &- before.kernelAccepts) / (stats.time - previous.stats.time)
                    line += ", \(Self.number(rate)) kernel accepts/s"
                }
                line += "; \(accept.adds) adds, \(accept.full) refused (full), \(accept.entriesDeleted) deleted"
                lines.append(line)
            }
        }
        if !stats.topListed.isEmpty {
            lines.append("top listed: " + ModeReport.topText(Array(stats.topListed.prefix(5))))
        }
        let set = stats.set
        lines.append(
            "set: \(set.ipv4Entries + set.ipv6Entries) entries (\(set.ipv4Entries) IPv4, \(set.ipv6Entries) IPv6), "
                + "version \(set.version), age \(Self.duration(current.setAge))"
        )
        lines += Self.sourceLines(stats)
        if let bgp = stats.bgp { lines += Self.bgpLines(bgp, now: stats.time) }
        lines.append("")
        lines.append(
            Self.columns([
                "queue", "packets/s", "dropped/s", "waiting", "fill", "kq-drops", "user-drops", "enobufs", "errors",
                "state",
            ])
        )
        for queue in stats.queues {
            let before = previous?.stats.queues.first { $0.queue == queue.queue }
            let seconds = previous.map { stats.time - $0.stats.time } ?? 0
            func rate(_ counter: Counter) -> String {
                guard let before, seconds > 0 else { return "-" }
                return Self.number(Double(queue[counter] &- before[counter]) / seconds)
            }
            let kernel = queue.kernel
            let fill = kernel.map { Self.percent(Double($0.waiting), of: Double(queue.maxLength)) } ?? "-"
            let errors = queue[.sendErrors] &+ queue[.verdictErrors] &+ queue[.receiveErrors]
            lines.append(
                Self.columns([
                    "\(queue.queue)", rate(.packets), rate(.dropped),
                    kernel.map { "\($0.waiting)/\(queue.maxLength)" } ?? "-",
                    fill, kernel.map { "\($0.queueDropped)" } ?? "-", kernel.map { "\($0.userDropped)" } ?? "-",
                    "\(queue[.enobufs])", "\(errors)", Self.bindingState(queue),
                ])
            )
        }
        return lines
    }

    /// A queue's state column: "bound", "UNBOUND 2.5s" while its worker binds it again,
    /// "NOT BOUND" when the kernel does not list it; with the rebinds so far, if any.
    static func bindingState(_ queue: MetricsSnapshot.Queue) -> String {
        var state = "bound"
        if let seconds = queue.unboundSeconds {
            let tenths = Int((seconds * 10).rounded())
            state = "UNBOUND \(tenths / 10).\(tenths % 10)s"
        } else if queue.kernel == nil {
            state = "NOT BOUND"
        }
        let rebinds = queue[.rebinds]
        return rebinds == 0 ? state : "\(state) (\(rebinds) rebinds)"
    }

    /// `exitblock bgp` (no queue, no packet): the set, its sources and the feed.
    private func feedLines(_ bgp: BGPFigures) -> [String] {
        let stats = current.stats
        var lines = [
            "set: \(stats.set.ipv4Entries + stats.set.ipv6Entries) entries (\(stats.set.ipv4Entries) IPv4, "
                + "\(stats.set.ipv6Entries) IPv6), version \(stats.set.version), age \(Self.duration(current.setAge)); "
                + "allowlist \(stats.policy.allowlistIPv4Entries + stats.policy.allowlistIPv6Entries) entries"
        ]
        lines += Self.sourceLines(stats)
        return lines + Self.bgpLines(bgp, now: stats.time)
    }

    /// The BGP feed's lines (`exitblock bgp`).
    /// One line per list source (its entries and last refresh), then the refusals by reason.
    static func sourceLines(_ stats: MetricsSnapshot) -> [String] {
        var lines: [String] = []
        for source in stats.sources {
            let result = source.lastRefreshOK ? "ok" : "FAILED: \(source.lastError)"
            lines.append(
                "  source \(source.path): \(source.ipv4Entries) IPv4, \(source.ipv6Entries) IPv6; "
                    + "last refresh \(Self.duration(stats.time - source.lastRefresh)) ago, \(result)"
                    + (stats.isStale(source) ? " (STALE)" : "")
            )
        }
        for reason in stats.refusals.keys.sorted() {
            lines.append("  refused (\(reason)): \(stats.refusals[reason] ?? 0)")
        }
        return lines
    }

    static func bgpLines(_ bgp: BGPFigures, now: Double) -> [String] {
        var lines = [
            "bgp: \(bgp.speaker), \(bgp.style); \(bgp.routes) routes in force (\(bgp.ipv4Routes) IPv4, "
                + "\(bgp.ipv6Routes) IPv6)" + (bgp.maximumRoutes > 0 ? " of at most \(bgp.maximumRoutes)" : ""),
            "  announced=\(bgp.announced) withdrawn=\(bgp.withdrawn) syncs=\(bgp.syncs); last sync "
                + (bgp.lastSync > 0 ? "\(duration(now - bgp.lastSync)) ago" : "never"),
        ]
        for reason in bgp.refused.keys.sorted() {
            lines.append("  refused update (\(reason)): \(bgp.refused[reason] ?? 0)")
        }
        if !bgp.lastError.isEmpty { lines.append("  last error: \(bgp.lastError)") }
        return lines
    }

    private static func columns(_ cells: [String]) -> String {
        let widths = [6, 11, 11, 12, 8, 10, 11, 9, 8, 9]
        return zip(cells, widths).map { cell, width in
            cell.count >= width ? cell + " " : cell + String(repeating: " ", count: width - cell.count)
        }.joined().trimmingWhitespace()
    }

    static func number(_ value: Double) -> String {
        value >= 100 || value == value.rounded() ? String(Int(value.rounded())) : fixed(value, decimals: 1)
    }

    static func percent(_ part: Double, of whole: Double) -> String {
        whole > 0 ? fixed(100 * part / whole, decimals: 2) + " %" : "0.00 %"
    }

    /// "5s", "3m12s", "2h05m", "4d03h".
    static func duration(_ seconds: Double) -> String {
        let total = Int(max(0, seconds))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(twoDigits(total % 60))s" }
        if total < 86400 { return "\(total / 3600)h\(twoDigits(total % 3600 / 60))m" }
        return "\(total / 86400)d\(twoDigits(total % 86400 / 3600))h"
    }

    /// `value` with `decimals` digits after the point, rounded (printf's "%.Nf").
    static func fixed(_ value: Double, decimals: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * Double(scale)).rounded()
        guard value.isFinite, scaled < 1e18 else { return String(value) }
        let units = UInt64(scaled)
        let sign = value < 0 && units > 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(units) }
        let fraction = String(units % scale)
        return sign + String(units / scale) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    /// `value` (0...99) with a leading zero below 10 (printf's "%02d").
    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}
