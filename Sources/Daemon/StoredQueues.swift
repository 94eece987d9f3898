/// The queue sockets the service manager passes back from its descriptor store at a start
/// (sd_listen_fds(3)): LISTEN_PID (this process), LISTEN_FDS (how many, from descriptor 3
/// on), LISTEN_FDNAMES (colon-separated names; ours are "nfqueue-N", as stored with
/// FDSTORE=1 FDNAME=nfqueue-N at the previous stop).
struct StoredQueues: Sendable, Equatable {
    /// The first passed descriptor (SD_LISTEN_FDS_START).
    static let firstDescriptor: Int32 = 3
    /// The FDNAME prefix of a queue socket.
    static let namePrefix = "nfqueue-"

    /// The queue of each descriptor in `descriptors`, same order.
    var queues: [UInt16] = []
    var descriptors: [Int32] = []
    /// Passed descriptors that are not queue sockets (to close).
    var others: [Int32] = []

    /// The FDNAME of queue `queue`.
    static func name(_ queue: UInt16) -> String { namePrefix + String(queue) }

    /// What the environment passes to process `pid`; nil when it passes nothing to it (no
    /// LISTEN_FDS, or LISTEN_PID names another process).
    static func parse(environment: [String: String], pid: Int32) -> StoredQueues? {
        guard let owner = environment["LISTEN_PID"], Int32(owner) == pid,
            let countText = environment["LISTEN_FDS"], let count = Int32(countText), count > 0, count <= 1024
        else { return nil }
        let names =
            environment["LISTEN_FDNAMES"].map { $0.split(separator: ":", omittingEmptySubsequences: false) } ?? []
        var stored = StoredQueues()
        for index in 0..<count {
            let descriptor = firstDescriptor + index
            let name = index < names.count ? names[Int(index)] : ""
            if name.hasPrefix(namePrefix), let queue = UInt16(name.dropFirst(namePrefix.count)),
                !stored.queues.contains(queue)
            {
                stored.queues.append(queue)
                stored.descriptors.append(descriptor)
            } else {
                stored.others.append(descriptor)
            }
        }
        return stored
    }
}
