import LinuxSystem
import SystemPackage
import Netlink

/// The kernel's ipsets through the ipset netlink interface (what the `ipset` program does,
/// without a process): add and delete entries, a whole batch in one send and the kernel's
/// answer to each; list a set with its per-entry counters, or its header alone; flush, swap,
/// create, destroy. Needs CAP_NET_ADMIN. Use from one thread.
public final class IpsetClient {
    private let requester: NetlinkRequester
    private var writer = NetlinkWriter(capacity: 64 << 10)

    /// Opens and binds the netlink socket.
    public init(receiveTimeoutMilliseconds: Int = 2000) throws(NetlinkError) {
        requester = try NetlinkRequester(receiveTimeoutMilliseconds: receiveTimeoutMilliseconds)
    }

    /// IPSET_ERR_HASH_FULL, as `SetOutcome.codes` holds it.
    public static let hashFullCode = IpsetMessage.hashFull

    /// Requests per datagram: 512 adds of IPv6 are about 46 KiB, well under the socket's
    /// send limit, and their acknowledgements fit the receive buffer.
    static let batchLimit = 512

    /// Adds each request's address to its set with its timeout (renewing an existing entry).
    public func add(_ requests: [SetRequest]) throws(NetlinkError) -> SetOutcome {
        try run(requests, operation: "ipset add") { request, sequence, writer in
            IpsetMessage.appendElement(
                IpsetMessage.add,
                set: request.set,
                address: request.address,
                timeout: request.timeout,
                resetCounters: request.resetsCounters,
                sequence: sequence,
                to: &writer
            )
        }
    }

    /// Deletes each request's address from its set (an address not there is no error).
    public func delete(_ requests: [SetRequest]) throws(NetlinkError) -> SetOutcome {
        try run(requests, operation: "ipset del") { request, sequence, writer in
            IpsetMessage.appendElement(
                IpsetMessage.delete,
                set: request.set,
                address: request.address,
                timeout: nil,
                sequence: sequence,
                to: &writer
            )
        }
    }

    /// Set `name` with its entries and their counters; nil when there is no such set.
    public func list(_ name: String) throws(NetlinkError) -> IpsetListing? {
        try listing(name, headerOnly: false)
    }

    /// Set `name`'s header (type, family, timeout, maxelem, references, entries); nil when
    /// there is no such set. One message whatever the set's size.
    public func header(_ name: String) throws(NetlinkError) -> IpsetHeader? {
        try listing(name, headerOnly: true)?.header
    }

    /// Empties set `name`.
    public func flush(_ name: String) throws(NetlinkError) {
        try command("ipset flush \(name)") { IpsetMessage.appendSetCommand(.flush, set: name, sequence: $0, to: &$1) }
    }

    /// Destroys set `name` (no rule may name it).
    public func destroy(_ name: String) throws(NetlinkError) {
        try command("ipset destroy \(name)") {
            IpsetMessage.appendSetCommand(.destroy, set: name, sequence: $0, to: &$1)
        }
    }

    /// Swaps the contents (and options) of sets `name` and `other`; rules naming either keep
    /// naming the same name.
    public func swap(_ name: String, with other: String) throws(NetlinkError) {
        try command("ipset swap \(name) \(other)") {
            IpsetMessage.appendSwap(set: name, with: other, sequence: $0, to: &$1)
        }
    }

    /// Creates set `name` as `spec` says (an existing set of that name is an error).
    public func create(_ name: String, _ spec: IpsetSpec) throws(NetlinkError) {
        try command("ipset create \(name)") { IpsetMessage.appendCreate(set: name, spec: spec, sequence: $0, to: &$1) }
    }

    /// Adds networks to a hash:net set (`ipset add NAME ADDR/LEN`), all in one batch; the
    /// first refusal throws.
    public func add(_ prefixes: [SetPrefix], to name: String) throws(NetlinkError) {
        var start = 0
        while start < prefixes.count {
            let end = min(start + Self.batchLimit, prefixes.count)
            let codes = try batch(end - start, operation: "ipset add to \(name)") { index, sequence, writer in
                let prefix = prefixes[start + index]
                IpsetMessage.appendElement(
                    IpsetMessage.add,
                    set: name,
                    address: prefix.first,
                    prefixLength: prefix.length,
                    timeout: nil,
                    sequence: sequence,
                    to: &writer
                )
            }
            if let code = codes.first(where: { $0 != 0 }) {
                throw .kernelRefused(operation: "ipset add to \(name)", Errno(code))
            }
            start = end
        }
    }

    private func listing(_ name: String, headerOnly: Bool) throws(NetlinkError) -> IpsetListing? {
        writer.removeAll()
        let sequence = requester.nextSequence()
        IpsetMessage.appendList(set: name, headerOnly: headerOnly, sequence: sequence, to: &writer)
        var listing = IpsetListing()
        do {
            let summary = try requester.collect(writer.bytes, sequence: sequence, operation: "ipset list \(name)") {
                listing.read($0)
            }
            listing.malformed += summary.malformedDatagrams
        } catch .kernelRefused(_, let errno) where errno == .noSuchFileOrDirectory {
            return nil
        }
        return listing
    }

    /// Sends one request and throws when the kernel refuses it.
    private func command(
        _ operation: String,
        _ append: (UInt32, inout NetlinkWriter) -> Void
    ) throws(NetlinkError) {
        let codes = try batch(1, operation: operation) { _, sequence, writer in append(sequence, &writer) }
        if codes[0] != 0 { throw .kernelRefused(operation: operation, Errno(codes[0])) }
    }

    /// Sends `count` requests, written by `append(index, sequence, &writer)`, in one datagram
    /// and returns the kernel's answer to each.
    private func batch(
        _ count: Int,
        operation: String,
        _ append: (Int, UInt32, inout NetlinkWriter) -> Void
    ) throws(NetlinkError) -> [Int32] {
        writer.removeAll()
        let first = requester.nextSequence()
        for index in 0..<count {
            append(index, index == 0 ? first : requester.nextSequence(), &writer)
        }
        return try requester.acknowledge(writer.bytes, first: first, count: count, operation: operation)
    }

    private func run(
        _ requests: [SetRequest],
        operation: String,
        append: (SetRequest, UInt32, inout NetlinkWriter) -> Void
    ) throws(NetlinkError) -> SetOutcome {
        var codes: [Int32] = []
        codes.reserveCapacity(requests.count)
        var start = 0
        while start < requests.count {
            let end = min(start + Self.batchLimit, requests.count)
            codes += try batch(end - start, operation: operation) { index, sequence, writer in
                append(requests[start + index], sequence, &writer)
            }
            start = end
        }
        return SetOutcome(codes: codes, fullCodes: [IpsetMessage.hashFull])
    }
}
