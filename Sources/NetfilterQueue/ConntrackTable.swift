import LinuxSystem

/// The kernel's connection tracking table of this network namespace, through ctnetlink:
/// list entries, delete entries. Needs CAP_NET_ADMIN. Use from one thread; each call is a
/// few system calls (a dump: one per 32 KiB of entries; deletions: one send per 64 entries
/// plus their acknowledgements), so keep it off the hot path.
public final class ConntrackTable {
    private let socket: ConntrackSocket
    /// Deletion requests sent per datagram.
    static let deleteBatch = 64

    /// Opens and binds the netlink socket.
    public init() throws(ConntrackError) {
        socket = try ConntrackSocket()
    }

    /// Lists the entries of `family`, keeping those `include` accepts (called once per
    /// entry as the dump is read, so a large table is never held whole).
    public func entries(
        family: ConntrackFamily,
        where include: (ConntrackEntry) -> Bool = { _ in true }
    ) throws(ConntrackError) -> ConntrackDump {
        let sequence = socket.nextSequence()
        try socket.send(ConntrackMessage.dumpRequest(family: family, sequence: sequence))
        var dump = ConntrackDump()
        let operation = "the \(family) dump"
        while true {
            var refusal: Int32 = 0
            let events = try socket.receive(operation: operation) { datagram in
                ConntrackMessage.walk(
                    datagram,
                    dumpSequence: sequence,
                    onEntry: { entry in
                        dump.examined += 1
                        if include(entry) { dump.entries.append(entry) }
                    },
                    onAnswer: { answered, code in
                        if answered == sequence && code != 0 { refusal = code }
                    }
                )
            }
            dump.malformed += events.malformed
            if events.interrupted { dump.interrupted = true }
            if refusal != 0 { throw .kernelRefused(operation: operation, Errno(refusal)) }
            if events.done { return dump }
        }
    }

    /// Deletes `entries` (each by original tuple, zone and kernel id). Entries already gone
    /// are counted apart from refusals; only a socket failure or a missing answer throws.
    public func delete(_ entries: [ConntrackEntry]) throws(ConntrackError) -> ConntrackDeletion {
        var result = ConntrackDeletion()
        var start = 0
        while start < entries.count {
            let end = min(start + Self.deleteBatch, entries.count)
            var bytes: [UInt8] = []
            var pending = Set<UInt32>()
            for entry in entries[start..<end] {
                let sequence = socket.nextSequence()
                ConntrackMessage.appendDeleteRequest(entry, sequence: sequence, to: &bytes)
                pending.insert(sequence)
            }
            try socket.send(bytes)
            while !pending.isEmpty {
                _ = try socket.receive(operation: "delete") { datagram in
                    ConntrackMessage.walk(
                        datagram,
                        dumpSequence: nil,
                        onEntry: { _ in },
                        onAnswer: { sequence, code in
                            guard pending.remove(sequence) != nil else { return }
                            if code == 0 {
                                result.deleted += 1
                            } else if Errno(code) == .noSuchFileOrDirectory {
                                result.alreadyGone += 1
                            } else {
                                result.failed += 1
                                result.lastError = Errno(code)
                            }
                        }
                    )
                }
            }
            start = end
        }
        return result
    }

    /// Deletes one entry; true when deleted, false when it was gone already.
    public func delete(_ entry: ConntrackEntry) throws(ConntrackError) -> Bool {
        let result = try delete([entry])
        if let error = result.lastError { throw .kernelRefused(operation: "delete \(entry)", error) }
        return result.deleted == 1
    }
}
