import Engine
import LinuxSystem

/// The log lines about the modes: what dry-run would have dropped, the most seen listed
/// addresses, and a warning when rejected packets came back (REJECT rules missing).
public enum ModeReport {
    /// "198.51.100.10 (12), 2001:db8:bad::10 (9)", or "none".
    public static func topText(_ top: [TopListedTable.Entry]) -> String {
        top.isEmpty ? "none" : top.map { "\($0.address) (\($0.packets))" }.joined(separator: ", ")
    }

    /// "dry-run: would have dropped 12 packets (IPv4 6, IPv6 6)"
    public static func wouldDropText(_ values: CounterValues) -> String {
        "dry-run: would have dropped \(values[.wouldDrop]) packets "
            + "(IPv4 \(values[.wouldDrop, .ipv4]), IPv6 \(values[.wouldDrop, .ipv6]))"
    }

    /// The lines written on stderr when `run` stops.
    public static func finalLines(total: CounterValues, top: [TopListedTable.Entry], policy: Policy) -> [String] {
        var lines: [String] = []
        if policy.dryRun { lines.append(wouldDropText(total)) }
        if policy.dryRun || !top.isEmpty { lines.append("top listed addresses by packets: \(topText(top))") }
        if total[.rejectReturned] > 0 {
            lines.append(
                "warning: \(total[.rejectReturned]) listed packet(s) came back with the reject mark and were dropped: "
                    + "no REJECT rule caught the mark before a queue rule queued them again "
                    + "(exitblock rules install --reject puts it in the filter table)"
            )
        }
        return lines
    }

    public static func logFinal(total: CounterValues, top: [TopListedTable.Entry], policy: Policy) {
        for line in finalLines(total: total, top: top, policy: policy) { Output.message(line) }
    }
}
