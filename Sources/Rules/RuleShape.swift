/// What the rule watch compares of one rule: its target and, for NFQUEUE, the queue it
/// names. The matches are left out: iptables-nft turns some into native expressions
/// (`-m mark`, `-p`), iptables-legacy keeps them as x_tables matches, so they are not the
/// same on both backends; the target and the queue are.
public struct RuleShape: Sendable, Hashable, CustomStringConvertible {
    /// `ACCEPT`, `DROP`, `RETURN`, a chain name for a jump, or an x_tables target name
    /// (`NFQUEUE`, `MARK`, `REJECT`).
    public var target: String
    /// For NFQUEUE: the first queue, the number of queues and the flags (1 bypass, 2 CPU fanout).
    public var queue: QueueTarget?

    /// An NFQUEUE target's queues.
    public struct QueueTarget: Sendable, Hashable {
        public var first: UInt16
        public var count: UInt16
        public var flags: UInt16

        public init(first: UInt16, count: UInt16, flags: UInt16) {
            self.first = first
            self.count = count
            self.flags = flags
        }
    }

    public init(target: String, queue: QueueTarget? = nil) {
        self.target = target
        self.queue = queue
    }

    /// `NFQUEUE 0-1 bypass`, `DROP`.
    public var description: String {
        guard let queue else { return target }
        let last = Int(queue.first) + Int(queue.count) - 1
        var text = "\(target) \(queue.count > 1 ? "\(queue.first)-\(last)" : "\(queue.first)")"
        if queue.flags & 1 != 0 { text += " bypass" }
        if queue.flags & 2 != 0 { text += " cpu-fanout" }
        return text
    }

    /// The shape of an iptables-save rule line (`-A EXITBLOCK ... -j NFQUEUE --queue-num 0`).
    public init(ruleLine line: String) {
        let words = line.split(separator: " ").map(String.init)
        let at = words.firstIndex(of: "-j").map { $0 + 1 }
        target = at.flatMap { $0 < words.count ? words[$0] : nil } ?? ""
        guard target == "NFQUEUE" else { return }
        var first: UInt16 = 0
        var count: UInt16 = 1
        var flags: UInt16 = 0
        for (index, word) in words.enumerated() {
            let value = index + 1 < words.count ? words[index + 1] : ""
            switch word {
            case "--queue-num": first = UInt16(value) ?? 0
            case "--queue-balance":
                let bounds = value.split(separator: ":").compactMap { UInt16($0) }
                if bounds.count == 2 {
                    first = bounds[0]
                    count = bounds[1] &- bounds[0] &+ 1
                }
            case "--queue-bypass": flags |= 1
            case "--queue-cpu-fanout": flags |= 2
            default: break
            }
        }
        queue = QueueTarget(first: first, count: count, flags: flags)
    }
}
