import LinuxSystem
import SystemPackage
import Netlink

#if canImport(Glibc)
    import Glibc
#endif

/// The nf_tables sets of one `inet` table (the caches of the `rules show --nft` ruleset)
/// through nfnetlink, what `nft` does without a process: add and delete single addresses, a
/// whole batch in one send and the kernel's answer to each element; list a set's elements
/// with their expiry and counters; empty a set; replace an interval set's elements; read a
/// set's size and timeout; name the sets the table's rules use. Needs CAP_NET_ADMIN.
///
/// nf_tables runs a batch as one transaction: when one element fails (a full set: ENFILE; a
/// missing one on delete: ENOENT) the kernel aborts all of it, and answers the others 0 all
/// the same. So the client sends again what was not refused, until a batch goes through
/// whole or nothing is left (each round drops at least one element; a round is one send).
/// Use from one thread.
public final class NftSetClient {
    /// The table the sets live in.
    public let table: String
    private let requester: NetlinkRequester
    private var writer = NetlinkWriter(capacity: 64 << 10)

    /// Opens and binds the netlink socket.
    public init(table: String, receiveTimeoutMilliseconds: Int = 2000) throws(NetlinkError) {
        self.table = table
        requester = try NetlinkRequester(receiveTimeoutMilliseconds: receiveTimeoutMilliseconds)
    }

    /// The codes of a full set (ENFILE: `size` elements; ENOSPC: the backend has no room).
    public static let fullCodes: Set<Int32> = [ENFILE, ENOSPC]

    /// Elements per batch: 512 IPv6 adds are about 50 KiB, under the socket's send limit.
    static let batchLimit = 512

    /// Adds each request's address to its set with its timeout in seconds (renewing the
    /// timeout of an element already there).
    public func add(_ requests: [SetRequest]) throws(NetlinkError) -> SetOutcome {
        try run(requests, operation: "nf_tables add element", timeout: true)
    }

    /// Deletes each request's address from its set (an address not there: ENOENT, failed).
    public func delete(_ requests: [SetRequest]) throws(NetlinkError) -> SetOutcome {
        try run(requests, operation: "nf_tables delete element", timeout: false)
    }

    /// The elements of set `name` with their seconds left and counters; nil when there is no such set.
    public func members(_ name: String) throws(NetlinkError) -> [SetMember]? {
        writer.removeAll()
        let sequence = requester.nextSequence()
        NftSetMessage.appendListElements(table: table, set: name, sequence: sequence, to: &writer)
        var members: [SetMember] = []
        do {
            try requester.collect(writer.bytes, sequence: sequence, operation: "nf_tables list set \(name)") {
                members += NftSetAnswer.members($0) ?? []
            }
        } catch .kernelRefused(_, let errno) where errno == .noSuchFileOrDirectory {
            return nil
        }
        return members
    }

    /// Set `name`'s flags, size and timeout; nil when there is no such set (or table).
    public func info(_ name: String) throws(NetlinkError) -> NftSetInfo? {
        writer.removeAll()
        let sequence = requester.nextSequence()
        NftSetMessage.appendGetSet(table: table, set: name, sequence: sequence, to: &writer)
        var info: NftSetInfo?
        do {
            try requester.collect(writer.bytes, sequence: sequence, operation: "nf_tables get set \(name)") {
                info = info ?? NftSetInfo($0)
            }
        } catch .kernelRefused(_, let errno) where errno == .noSuchFileOrDirectory {
            return nil
        }
        return info
    }

    /// The names of the sets the table's rules look up or update (`@drop4`); nil when there
    /// is no such table.
    public func setsNamedByRules() throws(NetlinkError) -> Set<String>? {
        writer.removeAll()
        let sequence = requester.nextSequence()
        NftSetMessage.appendListRules(table: table, sequence: sequence, to: &writer)
        var names = Set<String>()
        do {
            try requester.collect(writer.bytes, sequence: sequence, operation: "nf_tables list rules of \(table)") {
                names.formUnion(NftSetAnswer.setNames($0))
            }
        } catch .kernelRefused(_, let errno) where errno == .noSuchFileOrDirectory {
            return nil
        }
        return names
    }

    /// Empties set `name`.
    public func flush(_ name: String) throws(NetlinkError) {
        try transactOrThrow("nf_tables flush set \(name)", count: 1) { _, sequence, writer in
            NftSetMessage.appendFlush(table: table, set: name, sequence: sequence, to: &writer)
        }
    }

    /// Makes interval set `name` hold exactly `prefixes`, emptied and filled in one
    /// transaction (the kernel never sees it half filled). Prefixes inside another are left
    /// out and adjacent ones joined: an interval set refuses overlapping elements.
    public func replace(_ name: String, with prefixes: [SetPrefix], ipv6: Bool) throws(NetlinkError) {
        let ranges = Self.ranges(prefixes)
        let zero: SetAddress = ipv6 ? .v6(high: 0, low: 0) : .v4(0)
        try transactOrThrow("nf_tables replace set \(name)", count: ranges.isEmpty ? 1 : 2) { index, sequence, writer in
            if index == 0 {
                NftSetMessage.appendFlush(table: table, set: name, sequence: sequence, to: &writer)
            } else {
                NftSetMessage.appendIntervals(
                    table: table,
                    set: name,
                    ranges: ranges,
                    zero: zero,
                    sequence: sequence,
                    to: &writer
                )
            }
        }
    }

    /// The ranges `prefixes` cover, sorted, overlapping and adjacent ones joined.
    static func ranges(_ prefixes: [SetPrefix]) -> [(first: SetAddress, last: SetAddress)] {
        var merged: [(first: SetAddress, last: SetAddress)] = []
        for prefix in prefixes.sorted(by: { $0.first < $1.first }) {
            let (first, last) = (prefix.first, prefix.last)
            if let previous = merged.last, previous.last.successor.map({ first <= $0 }) ?? true {
                merged[merged.count - 1].last = max(previous.last, last)
            } else {
                merged.append((first, last))
            }
        }
        return merged
    }

    private func run(_ requests: [SetRequest], operation: String, timeout: Bool) throws(NetlinkError) -> SetOutcome {
        var codes: [Int32] = []
        var start = 0
        while start < requests.count {
            let end = min(start + Self.batchLimit, requests.count)
            codes += try Self.settle(count: end - start) { (indices: [Int]) throws(NetlinkError) -> [Int32] in
                try transact(operation, count: indices.count) { index, sequence, writer in
                    let request = requests[start + indices[index]]
                    NftSetMessage.appendElement(
                        table: table,
                        set: request.set,
                        address: request.address,
                        timeoutMilliseconds: timeout ? UInt64(request.timeout) * 1000 : nil,
                        sequence: sequence,
                        to: &writer
                    )
                }
            }
            start = end
        }
        return SetOutcome(codes: codes, fullCodes: Self.fullCodes)
    }

    /// The final code of each of `count` elements, given `transact`, which sends the elements
    /// at the indices given as one batch and returns the kernel's answer to each: while any
    /// answer is an error the batch was aborted, so the elements answered 0 go again alone.
    static func settle(
        count: Int,
        transact: ([Int]) throws(NetlinkError) -> [Int32]
    ) throws(NetlinkError) -> [Int32] {
        var codes = [Int32](repeating: -1, count: count)
        var pending = Array(0..<count)
        while !pending.isEmpty {
            let answers = try transact(pending)
            let refused = zip(pending, answers).filter { $0.1 != 0 }
            if refused.isEmpty {
                for index in pending { codes[index] = 0 }
                break
            }
            for (index, code) in refused { codes[index] = code }
            pending = zip(pending, answers).filter { $0.1 == 0 }.map(\.0)
        }
        return codes
    }

    /// Sends one batch and throws on the first refusal.
    private func transactOrThrow(
        _ operation: String,
        count: Int,
        _ append: (Int, UInt32, inout NetlinkWriter) -> Void
    ) throws(NetlinkError) {
        let codes = try transact(operation, count: count, append)
        if let code = codes.first(where: { $0 != 0 }) { throw .kernelRefused(operation: operation, Errno(code)) }
    }

    /// Sends one batch (BEGIN, `count` messages written by `append(index, sequence, &writer)`,
    /// END) and returns the answer to each message, in order.
    private func transact(
        _ operation: String,
        count: Int,
        _ append: (Int, UInt32, inout NetlinkWriter) -> Void
    ) throws(NetlinkError) -> [Int32] {
        writer.removeAll()
        let begin = requester.nextSequence()
        NftSetMessage.appendBatchMarker(end: false, sequence: begin, to: &writer)
        let first = requester.nextSequence()
        for index in 0..<count {
            append(index, index == 0 ? first : requester.nextSequence(), &writer)
        }
        NftSetMessage.appendBatchMarker(end: true, sequence: requester.nextSequence(), to: &writer)
        return try requester.acknowledge(writer.bytes, first: first, count: count, batch: begin, operation: operation)
    }
}
