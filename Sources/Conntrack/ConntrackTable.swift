import LinuxSystem
import SystemPackage
import Netlink

/// The kernel's connection tracking table of this network namespace, through ctnetlink:
/// list entries, delete entries. Needs CAP_NET_ADMIN. Use from one thread; each call is a
/// few system calls (a dump: one per 32 KiB of entries; deletions: one send per 64 entries
/// plus their acknowledgements), so keep it off the hot path.
public final class ConntrackTable {
    private let requester: NetlinkRequester
    /// Deletion requests sent per datagram.
    static let deleteBatch = 64

    /// Opens and binds the netlink socket.
    public init() throws(NetlinkError) {
        requester = try NetlinkRequester()
    }

    /// Lists the entries of `family`, keeping those `include` accepts (called once per
    /// entry as the dump is read, so a large table is never held whole).
    public func entries(
        family: ConntrackFamily,
        where include: (ConntrackEntry) -> Bool = { _ in true }
    ) throws(NetlinkError) -> ConntrackDump {
        let sequence = requester.nextSequence()
        var dump = ConntrackDump()
        let request = ConntrackMessage.dumpRequest(family: family, sequence: sequence)
        let summary = try requester.collect(request, sequence: sequence, operation: "the conntrack \(family) dump") {
            guard $0.type == ConntrackMessage.entryType else { return }
            guard let entry = ConntrackMessage.parseEntry($0) else {
                dump.malformed += 1
                return
            }
            dump.examined += 1
            if include(entry) { dump.entries.append(entry) }
        }
        dump.malformed += summary.malformedDatagrams
        dump.interrupted = summary.interrupted
        return dump
    }

    /// Deletes `entries` (each by original tuple, zone and kernel id). Entries already gone
    /// are counted apart from refusals; only a socket failure or a missing answer throws.
    public func delete(_ entries: [ConntrackEntry]) throws(NetlinkError) -> ConntrackDeletion {
        var result = ConntrackDeletion()
        var start = 0
        while start < entries.count {
            let end = min(start + Self.deleteBatch, entries.count)
            var bytes: [UInt8] = []
            let first = requester.nextSequence()
            for (offset, entry) in entries[start..<end].enumerated() {
                let sequence = offset == 0 ? first : requester.nextSequence()
                ConntrackMessage.appendDeleteRequest(entry, sequence: sequence, to: &bytes)
            }
            let codes = try requester.acknowledge(
                bytes,
                first: first,
                count: end - start,
                operation: "conntrack delete"
            )
            for code in codes {
                if code == 0 {
                    result.deleted += 1
                } else if Errno(code) == .noSuchFileOrDirectory {
                    result.alreadyGone += 1
                } else {
                    result.failed += 1
                    result.lastError = Errno(code)
                }
            }
            start = end
        }
        return result
    }

    /// Deletes one entry; true when deleted, false when it was gone already.
    public func delete(_ entry: ConntrackEntry) throws(NetlinkError) -> Bool {
        let result = try delete([entry])
        if let error = result.lastError { throw .kernelRefused(operation: "conntrack delete \(entry)", error) }
        return result.deleted == 1
    }
}
