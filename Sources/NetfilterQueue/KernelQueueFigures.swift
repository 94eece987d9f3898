/// One line of /proc/net/netfilter/nfnetlink_queue: the kernel's view of a bound queue.
public struct KernelQueueFigures: Sendable, Equatable {
    public var queue: UInt16
    /// Netlink port id of the process that bound the queue.
    public var portID: UInt32
    /// Packets waiting for a verdict right now.
    public var waiting: UInt64
    public var copyMode: UInt8
    public var copyRange: UInt32
    /// Packets dropped because the queue was full (queue_dropped).
    public var queueDropped: UInt64
    /// Packets the kernel failed to deliver to the socket (user_dropped: receive buffer full).
    public var userDropped: UInt64
    /// Id of the last packet queued.
    public var lastID: UInt32

    public init(
        queue: UInt16,
        portID: UInt32,
        waiting: UInt64,
        copyMode: UInt8,
        copyRange: UInt32,
        queueDropped: UInt64,
        userDropped: UInt64,
        lastID: UInt32
    ) {
        self.queue = queue
        self.portID = portID
        self.waiting = waiting
        self.copyMode = copyMode
        self.copyRange = copyRange
        self.queueDropped = queueDropped
        self.userDropped = userDropped
        self.lastID = lastID
    }

    /// Parses the table's text: "queue portid waiting copy_mode copy_range queue_dropped
    /// user_dropped id_sequence 1" per line. Lines that do not fit are skipped.
    public static func parse(_ text: String) -> [KernelQueueFigures] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 8,
                let queue = UInt16(fields[0]), let portID = UInt32(fields[1]), let waiting = UInt64(fields[2]),
                let copyMode = UInt8(fields[3]), let copyRange = UInt32(fields[4]),
                let queueDropped = UInt64(fields[5]), let userDropped = UInt64(fields[6]),
                let lastID = UInt32(fields[7])
            else { return nil }
            return KernelQueueFigures(
                queue: queue,
                portID: portID,
                waiting: waiting,
                copyMode: copyMode,
                copyRange: copyRange,
                queueDropped: queueDropped,
                userDropped: userDropped,
                lastID: lastID
            )
        }
    }
}
