import NetfilterQueue

/// nfnetlink_queue's verdict handling, modelled: packets wait in id order; a batch verdict
/// (NFQNL_MSG_VERDICT_BATCH) takes every waiting packet with an id up to the one named, a
/// single verdict (NFQNL_MSG_VERDICT) takes its id only; either answers ENOENT when it finds
/// nothing. It stands in for the socket (`VerdictTransport`) and can fail sends on purpose.
final class KernelQueueModel: VerdictTransport {
    /// Packets still waiting for a verdict, oldest first.
    private(set) var waiting: [UInt32] = []
    /// Every verdict code the model applied, by packet id (more than one would be a bug).
    private(set) var verdicts: [UInt32: [UInt32]] = [:]
    /// Messages that found no packet (the kernel's ENOENT answers).
    private(set) var notFound = 0
    private(set) var sendCalls = 0
    /// Decides the outcome of each send before it reaches the model: nil delivers it, an
    /// errno fails it, and `.short` takes all but 4 bytes and delivers nothing.
    var fault: (_ call: Int, _ bytes: UnsafeRawBufferPointer) -> Fault? = { _, _ in nil }

    enum Fault {
        case errno(Errno)
        case short
    }

    func queue(_ id: UInt32) { waiting.append(id) }

    func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        sendCalls += 1
        switch fault(sendCalls, bytes) {
        case .errno(let errno)?: return .failure(errno)
        case .short?: return .success(bytes.count - 4)
        case nil: break
        }
        var offset = 0
        while offset + 32 <= bytes.count {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            let code = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 24, as: UInt32.self))
            let id = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 28, as: UInt32.self))
            apply(batch: type == 3 << 8 | 3, code: code, id: id)
            offset += length
        }
        return .success(bytes.count)
    }

    func pauseBeforeRetry(attempt: Int) {}

    private func apply(batch: Bool, code: UInt32, id: UInt32) {
        let taken = batch ? waiting.filter { $0 <= id } : waiting.filter { $0 == id }
        if taken.isEmpty { notFound += 1 }
        for packet in taken { verdicts[packet, default: []].append(code) }
        waiting.removeAll { taken.contains($0) }
    }
}
