/// The verdicts of one burst, encoded for a single `send`.
///
/// Consecutive packets with the same verdict form a run; each run becomes one
/// NFQNL_MSG_VERDICT_BATCH message naming the run's last id. A batch verdict applies to every
/// packet of the queue with an id up to the one named, so this is exact only because
/// (1) one socket and one thread serve the queue, ids arrive in increasing order, and every
/// earlier packet has already had its verdict (earlier runs come first in the same buffer,
/// and the kernel processes the messages of one send in order); and (2) a packet the kernel
/// failed to deliver to us never stays in its queue (nfnetlink_queue frees it at once), so
/// no unseen id can hide below the one named. An all-ACCEPT burst of 64 packets is one
/// 32-byte message.
public final class VerdictBatch {
    public let queue: UInt16
    private var runVerdicts: [Verdict]
    private var runLastIDs: [UInt32]
    private var encoded: [UInt8]
    /// Packets given a verdict since the last `removeAll`.
    public private(set) var count = 0

    /// A batch for `queue` with room for `capacity` packets without allocating.
    public init(queue: UInt16, capacity: Int = 64) {
        self.queue = queue
        runVerdicts = []
        runVerdicts.reserveCapacity(capacity)
        runLastIDs = []
        runLastIDs.reserveCapacity(capacity)
        encoded = []
        encoded.reserveCapacity(capacity * 40)
    }

    /// Adds one packet's verdict. Ids must increase; cost: a compare and, at a verdict
    /// change, an append into reserved storage.
    @inline(__always)
    public func append(id: UInt32, verdict: Verdict) {
        count += 1
        if let last = runVerdicts.last, last == verdict {
            runLastIDs[runLastIDs.count - 1] = id
        } else {
            runVerdicts.append(verdict)
            runLastIDs.append(id)
        }
    }

    /// Number of netlink messages the batch encodes to.
    public var messageCount: Int { runVerdicts.count }

    /// Forgets every verdict, keeping the storage.
    public func removeAll() {
        count = 0
        runVerdicts.removeAll(keepingCapacity: true)
        runLastIDs.removeAll(keepingCapacity: true)
    }

    /// The messages, one per run, ready for `send`. Valid until the next change.
    func encode() -> [UInt8] {
        encoded.removeAll(keepingCapacity: true)
        for index in runVerdicts.indices {
            let verdict = runVerdicts[index]
            let hasMark = verdict.mark != nil
            let length: UInt32 = 16 + 4 + 12 + (hasMark ? 8 : 0)
            // struct nlmsghdr (host order)
            appendHost(length)
            appendHost(NetlinkConstants.verdictBatchMessageType)
            appendHost(NetlinkConstants.requestFlag)
            appendHost(UInt32(0))  // sequence
            appendHost(UInt32(0))  // port id: the kernel
            // struct nfgenmsg: family AF_UNSPEC, version NFNETLINK_V0, queue (network order)
            encoded.append(0)
            encoded.append(0)
            appendNetwork(queue)
            // NFQA_VERDICT_HDR: struct nfqnl_msg_verdict_hdr { __be32 verdict; __be32 id; }
            appendHost(UInt16(12))
            appendHost(NetlinkConstants.verdictHeaderAttribute)
            appendNetwork(verdict.code)
            appendNetwork(runLastIDs[index])
            if let mark = verdict.mark {
                appendHost(UInt16(8))
                appendHost(NetlinkConstants.markAttribute)
                appendNetwork(mark)
            }
        }
        return encoded
    }

    @inline(__always)
    private func appendHost<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value) { encoded.append(contentsOf: $0) }
    }

    @inline(__always)
    private func appendNetwork<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { encoded.append(contentsOf: $0) }
    }
}
