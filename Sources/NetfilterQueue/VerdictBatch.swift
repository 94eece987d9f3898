import Netlink

/// The verdicts of one burst, encoded for a single `send`.
///
/// Consecutive packets with the same verdict form a run; each run becomes one
/// NFQNL_MSG_VERDICT_BATCH message naming the run's last id. A batch verdict applies to every
/// packet of the queue with an id up to the one named, so this is exact only because
/// (1) one socket and one thread serve the queue, ids arrive in increasing order, and every
/// earlier packet has already had its verdict (earlier runs come first in the same buffer,
/// and the kernel processes the messages of one send in order; verdicts whose send failed stay
/// in the batch, ahead of the next burst's, see `VerdictSender`); and (2) a packet the kernel
/// failed to deliver to us never stays in its queue (nfnetlink_queue frees it at once), so
/// no unseen id can hide below the one named. An all-ACCEPT burst of 64 packets is one
/// 32-byte message.
///
/// Every packet's id is kept too, so that the packets of a batch that cannot be sent can be
/// answered one by one (NFQNL_MSG_VERDICT), each with its own verdict.
///
/// Its storage is `@exclusivity(unchecked)`: one worker thread owns a batch and never
/// re-enters it, and the runtime's access check cost more than the append it guarded.
public final class VerdictBatch {
    public let queue: UInt16
    /// Every packet's id, in order.
    @exclusivity(unchecked) private var ids: [UInt32]
    @exclusivity(unchecked) private var runVerdicts: [Verdict]
    /// For each run, the index in `ids` one past its last packet.
    @exclusivity(unchecked) private var runEnds: [Int]
    @exclusivity(unchecked) private var writer: NetlinkWriter
    /// Packets given a verdict and not sent yet.
    public var count: Int { ids.count }

    /// A batch for `queue` with room for `capacity` packets without allocating.
    public init(queue: UInt16, capacity: Int = 64) {
        self.queue = queue
        ids = []
        ids.reserveCapacity(capacity)
        runVerdicts = []
        runVerdicts.reserveCapacity(capacity)
        runEnds = []
        runEnds.reserveCapacity(capacity)
        writer = NetlinkWriter(capacity: capacity * 40)
    }

    /// Adds one packet's verdict. Ids must increase; cost: an append into reserved storage,
    /// a compare and, at a verdict change, two more appends.
    @inline(__always)
    public func append(id: UInt32, verdict: Verdict) {
        ids.append(id)
        if let last = runVerdicts.last, last == verdict {
            runEnds[runEnds.count - 1] = ids.count
        } else {
            runVerdicts.append(verdict)
            runEnds.append(ids.count)
        }
    }

    /// Number of batch messages the batch encodes to.
    public var messageCount: Int { runVerdicts.count }

    /// The id and verdict of the packet at `index` (0 is the oldest unsent packet).
    public subscript(index: Int) -> (id: UInt32, verdict: Verdict) {
        precondition(index >= 0 && index < ids.count, "verdict index out of range")
        var run = 0
        while runEnds[run] <= index { run += 1 }
        return (ids[index], runVerdicts[run])
    }

    /// Forgets every verdict, keeping the storage.
    public func removeAll() {
        ids.removeAll(keepingCapacity: true)
        runVerdicts.removeAll(keepingCapacity: true)
        runEnds.removeAll(keepingCapacity: true)
    }

    /// Forgets the `answered` oldest verdicts (sent one by one), keeping the rest in order.
    /// Failure path only: it moves the remaining entries.
    public func removeFirst(_ answered: Int) {
        precondition(answered >= 0 && answered <= ids.count)
        guard answered < ids.count else { return removeAll() }
        ids.removeFirst(answered)
        var firstKept = 0
        while runEnds[firstKept] <= answered { firstKept += 1 }
        runVerdicts.removeFirst(firstKept)
        runEnds.removeFirst(firstKept)
        for run in runEnds.indices { runEnds[run] -= answered }
    }

    /// The messages, one batch verdict per run, ready for `send`. Valid until the next change.
    func encode() -> [UInt8] {
        writer.removeAll()
        for index in runVerdicts.indices {
            appendMessage(
                type: NetlinkConstants.verdictBatchMessageType,
                id: ids[runEnds[index] - 1],
                verdict: runVerdicts[index]
            )
        }
        return writer.bytes
    }

    /// One NFQNL_MSG_VERDICT message for the packet at `index` only, with its own verdict.
    /// Valid until the next change.
    func encodeSingle(at index: Int) -> [UInt8] {
        let (id, verdict) = self[index]
        writer.removeAll()
        appendMessage(type: NetlinkConstants.verdictMessageType, id: id, verdict: verdict)
        return writer.bytes
    }

    /// nlmsghdr, nfgenmsg (AF_UNSPEC, NFNETLINK_V0, the queue), NFQA_VERDICT_HDR, and
    /// NFQA_MARK if the verdict carries one: what nfq_nlmsg_put + nfq_nlmsg_verdict_put(_mark)
    /// write (the tests compare the bytes). Hand-written as one fixed tuple per message, one
    /// append: a burst of a 10% mix has a verdict change every few packets, and the writer's
    /// dozen field appends per message cost more than judging the packets.
    @inline(__always)
    private func appendMessage(type: UInt16, id: UInt32, verdict: Verdict) {
        let attributeHeader = UInt16(Netlink.attributeHeaderSize)
        let markSize = verdict.mark == nil ? 0 : Int(attributeHeader) + 4
        let message = (
            // struct nlmsghdr, host byte order; sequence and port id 0
            UInt32(Self.verdictMessageSize + markSize), type, Netlink.Flags.request, UInt32(0), UInt32(0),
            // struct nfgenmsg
            UInt8(0), UInt8(0), queue.bigEndian,
            // NFQA_VERDICT_HDR: struct nfqnl_msg_verdict_hdr { __be32 verdict; __be32 id; }
            attributeHeader + 8, NetlinkConstants.verdictHeaderAttribute, verdict.code.bigEndian, id.bigEndian
        )
        withUnsafeBytes(of: message) { writer.putRaw($0) }
        if let mark = verdict.mark {
            let attribute = (attributeHeader + 4, NetlinkConstants.markAttribute, mark.bigEndian)
            withUnsafeBytes(of: attribute) { writer.putRaw($0) }
        }
    }

    /// Bytes of a verdict message without a mark: nlmsghdr 16, nfgenmsg 4, NFQA_VERDICT_HDR 12.
    static var verdictMessageSize: Int { 32 }
}
