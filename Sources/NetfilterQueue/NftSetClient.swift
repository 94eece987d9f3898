import LinuxSystem
import Netlink
internal import CNetfilterQueue

#if canImport(Glibc)
    import Glibc
#endif

/// Adds and deletes single addresses of the nf_tables sets of one `inet` table (the caches of
/// the `rules show --nft` ruleset) through nfnetlink: a whole batch in one send, then the
/// kernel's answer to each element. The requests and outcomes are `IpsetClient`'s, so the
/// cache writer talks to either; `Request.set` names a set of `table`.
///
/// nf_tables runs a batch as one transaction: when one element fails (a full set: ENFILE; a
/// missing one on delete: ENOENT) the kernel aborts all of it, and answers the others 0 all
/// the same. So the client sends again what was not refused, until a batch goes through
/// whole or nothing is left (each round drops at least one element; a round is one send).
/// Use from one thread.
public final class NftSetClient {
    /// The table the sets live in.
    public let table: String
    private let socket: NetlinkSocket
    private var buffer: [UInt8]
    private var sequence: UInt32
    private var writer = NetlinkWriter(capacity: 64 << 10)

    /// Opens and binds the netlink socket (needs CAP_NET_ADMIN to be of use).
    public init(table: String, receiveTimeoutMilliseconds: Int = 2000) throws(NftSetError) {
        self.table = table
        do {
            socket = try NetlinkSocket.forRequests(receiveTimeoutMilliseconds: receiveTimeoutMilliseconds)
        } catch {
            if case .syscall(let call, let errno) = error { throw .syscall(call, errno) }
            throw .malformed("\(error)")
        }
        buffer = [UInt8](repeating: 0, count: 64 << 10)
        sequence = UInt32(truncatingIfNeeded: time(nil))
    }

    /// The codes of a full set (ENFILE: `size` elements; ENOSPC: the backend has no room).
    public static let fullCodes: Set<Int32> = [ENFILE, ENOSPC]

    /// Adds each request's address to its set with its timeout in seconds (renewing the
    /// timeout of an element already there).
    public func add(_ requests: [IpsetClient.Request]) throws(NftSetError) -> IpsetClient.Outcome {
        try run(requests, operation: "add") { request, sequence, writer in
            NftSetMessage.appendAdd(
                table: table,
                set: request.set,
                address: request.address,
                timeoutMilliseconds: UInt64(request.timeout) * 1000,
                sequence: sequence,
                to: &writer
            )
        }
    }

    /// Deletes each request's address from its set (an address not there: ENOENT, failed).
    public func delete(_ requests: [IpsetClient.Request]) throws(NftSetError) -> IpsetClient.Outcome {
        try run(requests, operation: "delete") { request, sequence, writer in
            NftSetMessage.appendDelete(
                table: table,
                set: request.set,
                address: request.address,
                sequence: sequence,
                to: &writer
            )
        }
    }

    /// Elements per batch: 512 IPv6 adds are about 50 KiB, under the socket's send limit.
    static let batchLimit = 512

    private func run(
        _ requests: [Request],
        operation: String,
        append: (Request, UInt32, inout NetlinkWriter) -> Void
    ) throws(NftSetError) -> IpsetClient.Outcome {
        var outcome = IpsetClient.Outcome()
        outcome.codes = [Int32](repeating: -1, count: requests.count)
        var start = 0
        while start < requests.count {
            let end = min(start + Self.batchLimit, requests.count)
            let codes = try Self.settle(count: end - start) { (indices: [Int]) throws(NftSetError) -> [Int32] in
                try transact(indices.map { requests[start + $0] }, operation: operation, append: append)
            }
            outcome.codes.replaceSubrange(start..<end, with: codes)
            start = end
        }
        for code in outcome.codes {
            if code == 0 {
                outcome.done += 1
            } else if Self.fullCodes.contains(code) {
                outcome.full += 1
            } else {
                outcome.failed += 1
                if outcome.firstFailure == nil { outcome.firstFailure = code }
            }
        }
        return outcome
    }

    public typealias Request = IpsetClient.Request

    /// The final code of each of `count` elements, given `transact`, which sends the elements
    /// at the indices given as one batch and returns the kernel's answer to each: while any
    /// answer is an error the batch was aborted, so the elements answered 0 go again alone.
    static func settle(
        count: Int,
        transact: ([Int]) throws(NftSetError) -> [Int32]
    ) throws(NftSetError) -> [Int32] {
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

    /// Sends one batch (BEGIN, one message per request, END) and returns the answer to each
    /// request, in order.
    private func transact(
        _ requests: [Request],
        operation: String,
        append: (Request, UInt32, inout NetlinkWriter) -> Void
    ) throws(NftSetError) -> [Int32] {
        writer.removeAll()
        sequence &+= 1
        let begin = sequence
        NftSetMessage.appendBatchMarker(end: false, sequence: begin, to: &writer)
        for request in requests {
            sequence &+= 1
            append(request, sequence, &writer)
        }
        sequence &+= 1
        NftSetMessage.appendBatchMarker(end: true, sequence: sequence, to: &writer)
        let bytes = writer.bytes
        do {
            try socket.send(bytes, count: bytes.count)
        } catch {
            if case .syscall(let call, let errno) = error { throw .syscall(call, errno) }
            throw .malformed("\(error)")
        }
        var answers = [Int32](repeating: -1, count: requests.count)
        var answered = 0
        var batchCode: Int32?
        let first = begin &+ 1
        while answered < requests.count && batchCode == nil {
            let received: Int
            switch socket.receiveDatagram(into: &buffer) {
            case .success(let length): received = length
            case .failure(let error): throw .syscall("recv(nf_tables) during \(operation)", error)
            case nil: throw .noAnswer(operation: operation, missing: requests.count - answered)
            }
            guard received <= buffer.count else {
                throw .malformed("a datagram of \(received) bytes did not fit the \(buffer.count)-byte buffer")
            }
            let readable = buffer.withUnsafeBytes { datagram in
                NftSetMessage.walkAnswers(UnsafeRawBufferPointer(rebasing: datagram[0..<received])) { sequence, code in
                    if sequence == begin, code != 0 {
                        batchCode = code
                        return
                    }
                    // Only answers to this batch (a late answer to a timed-out batch is skipped).
                    guard sequence &- first < UInt32(requests.count) else { return }
                    let index = Int(sequence &- first)
                    if answers[index] == -1 { answered += 1 }
                    answers[index] = code
                }
            }
            guard readable else { throw .malformed("a message header did not fit its datagram") }
        }
        if let batchCode { throw .batchRefused(operation: operation, code: batchCode) }
        return answers
    }
}
