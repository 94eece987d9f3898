import ExitSet
import LinuxSystem

extension LoadedList {
    /// "PATH: plain list, 1127 IPv4 + 619 IPv6 entries, 0 line(s) rejected"
    public var summary: String {
        "\(path): \(list.format) list, \(list.ipv4Count) IPv4 + \(list.ipv6Count) IPv6 entries, "
            + "\(list.rejectedCount) line(s) rejected"
    }

    /// Writes the summary and up to `rejectedLimit` rejected lines ("PATH:LINE: reason") on stderr.
    public func report(rejectedLimit: Int) {
        Output.message(summary)
        let shown = list.rejected.prefix(rejectedLimit)
        for rejected in shown {
            Output.message("\(path):\(rejected.line): \(rejected.reason)")
        }
        if list.rejectedCount > shown.count {
            Output.message("\(path): ... and \(list.rejectedCount - shown.count) more rejected line(s)")
        }
    }
}
