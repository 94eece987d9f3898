import LinuxSystem
import Netlink
internal import CNetfilterQueue

#if canImport(Glibc)
    import Glibc
#endif

/// Adds and deletes single addresses of ipset `hash:ip` sets through the kernel's ipset
/// netlink interface: a whole batch in one send, then the kernel's answer to each request.
/// Used off the hot path by the verdict cache's writer thread; no `ipset` process per add.
/// Use from one thread.
public final class IpsetClient {
    /// One address to add to (or delete from) one set.
    public struct Request: Sendable, Hashable {
        public var set: String
        public var address: ConntrackAddress
        /// Seconds the entry lives (adds only); an existing entry gets it anew.
        public var timeout: UInt32

        public init(set: String, address: ConntrackAddress, timeout: UInt32 = 0) {
            self.set = set
            self.address = address
            self.timeout = timeout
        }
    }

    /// How the kernel answered a batch.
    public struct Outcome: Sendable, Equatable {
        /// Requests it carried out.
        public var done = 0
        /// Adds it refused because the set is full (IPSET_ERR_HASH_FULL).
        public var full = 0
        /// Requests it refused otherwise (no such set, wrong family, EPERM...), with the
        /// first such code (an errno or ipset error number, positive).
        public var failed = 0
        public var firstFailure: Int32?
        /// Each request's answer, in request order: 0 done, else the (positive) errno or
        /// ipset error number; -1 when no answer came.
        public var codes: [Int32] = []

        public init() {}
    }

    private let socket: NetlinkSocket
    private var buffer: [UInt8]
    private var sequence: UInt32
    private var bytes: [UInt8] = []

    /// Opens and binds the netlink socket (needs CAP_NET_ADMIN to be of use).
    public init(receiveTimeoutMilliseconds: Int = 2000) throws(IpsetError) {
        do {
            socket = try NetlinkSocket.forRequests(receiveTimeoutMilliseconds: receiveTimeoutMilliseconds)
        } catch {
            if case .syscall(let call, let errno) = error { throw .syscall(call, errno) }
            throw .malformed("\(error)")
        }
        buffer = [UInt8](repeating: 0, count: 64 << 10)
        sequence = UInt32(truncatingIfNeeded: time(nil))
    }

    /// Adds each request's address to its set with its timeout (renewing an existing entry).
    public func add(_ requests: [Request]) throws(IpsetError) -> Outcome {
        try run(requests, operation: "add") { request, sequence, bytes in
            IpsetMessage.appendAdd(
                set: request.set,
                address: request.address,
                timeout: request.timeout,
                sequence: sequence,
                to: &bytes
            )
        }
    }

    /// Deletes each request's address from its set (an address not there counts as failed).
    public func delete(_ requests: [Request]) throws(IpsetError) -> Outcome {
        try run(requests, operation: "del") { request, sequence, bytes in
            IpsetMessage.appendDelete(set: request.set, address: request.address, sequence: sequence, to: &bytes)
        }
    }

    /// IPSET_ERR_HASH_FULL, as `Outcome.codes` holds it.
    public static let hashFullCode = IpsetMessage.hashFull

    /// Requests per datagram: 512 adds of IPv6 are about 46 KiB, well under the socket's
    /// send limit, and their acknowledgements fit the receive buffer.
    static let batchLimit = 512

    private func run(
        _ requests: [Request],
        operation: String,
        append: (Request, UInt32, inout [UInt8]) -> Void
    ) throws(IpsetError) -> Outcome {
        var outcome = Outcome()
        outcome.codes = [Int32](repeating: -1, count: requests.count)
        var index = 0
        while index < requests.count {
            let end = min(index + Self.batchLimit, requests.count)
            bytes.removeAll(keepingCapacity: true)
            let first = sequence &+ 1
            for request in requests[index..<end] {
                sequence &+= 1
                append(request, sequence, &bytes)
            }
            try sendAndCollect(count: end - index, first: first, base: index, operation: operation, into: &outcome)
            index = end
        }
        return outcome
    }

    private func sendAndCollect(
        count: Int,
        first: UInt32,
        base: Int,
        operation: String,
        into outcome: inout Outcome
    ) throws(IpsetError) {
        do {
            try socket.send(bytes, count: bytes.count)
        } catch {
            if case .syscall(let call, let errno) = error { throw .syscall(call, errno) }
            throw .malformed("\(error)")
        }
        var answered = 0
        while answered < count {
            let received: Int
            switch socket.receiveDatagram(into: &buffer) {
            case .success(let length): received = length
            case .failure(let error): throw .syscall("recv(ipset) during \(operation)", error)
            case nil: throw .noAnswer(operation: operation, missing: count - answered)
            }
            guard received <= buffer.count else {
                throw .malformed("a datagram of \(received) bytes did not fit the \(buffer.count)-byte buffer")
            }
            let readable = buffer.withUnsafeBytes { datagram in
                IpsetMessage.walkAnswers(UnsafeRawBufferPointer(rebasing: datagram[0..<received])) { sequence, code in
                    // Only answers to this batch (a late answer to a timed-out batch is skipped).
                    guard sequence &- first < UInt32(count) else { return }
                    answered += 1
                    outcome.codes[base + Int(sequence &- first)] = code
                    if code == 0 {
                        outcome.done += 1
                    } else if code == IpsetMessage.hashFull {
                        outcome.full += 1
                    } else {
                        outcome.failed += 1
                        if outcome.firstFailure == nil { outcome.firstFailure = code }
                    }
                }
            }
            guard readable else { throw .malformed("a message header did not fit its datagram") }
        }
    }
}
