import CNetfilterQueue
import Testing

@testable import NetfilterQueue

@Suite struct VerdictBatchTests {
    /// The same message built by libnetfilter_queue: nfq_nlmsg_put + nfq_nlmsg_verdict_put.
    private func reference(queue: UInt16, id: UInt32, verdict: Verdict, single: Bool = false) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: 256)
        let type = single ? NFQNL_MSG_VERDICT : NFQNL_MSG_VERDICT_BATCH
        return buffer.withUnsafeMutableBufferPointer { pointer -> [UInt8] in
            let header = nfq_nlmsg_put(pointer.baseAddress, Int32(type.rawValue), UInt32(queue))!
            nfq_nlmsg_verdict_put(header, Int32(bitPattern: id), Int32(verdict.code))
            if let mark = verdict.mark { nfq_nlmsg_verdict_put_mark(header, mark) }
            let length = Int(header.pointee.nlmsg_len)
            return UnsafeRawBufferPointer(start: pointer.baseAddress, count: length).map { $0 }
        }
    }

    @Test func oneRunIsOneMessageIdenticalToLibnetfilterQueue() {
        let batch = VerdictBatch(queue: 3)
        for id in UInt32(10)...UInt32(73) { batch.append(id: id, verdict: .accept) }
        #expect(batch.count == 64)
        #expect(batch.messageCount == 1)
        #expect(batch.encode() == reference(queue: 3, id: 73, verdict: .accept))
    }

    @Test func runsFollowVerdictChanges() {
        let batch = VerdictBatch(queue: 0)
        let verdicts: [Verdict] = [.accept, .accept, .drop, .accept, .repeat(mark: 0x10), .repeat(mark: 0x10), .drop]
        for (offset, verdict) in verdicts.enumerated() { batch.append(id: UInt32(100 + offset), verdict: verdict) }
        #expect(batch.messageCount == 5)
        let expected =
            reference(queue: 0, id: 101, verdict: .accept) + reference(queue: 0, id: 102, verdict: .drop)
            + reference(queue: 0, id: 103, verdict: .accept)
            + reference(queue: 0, id: 105, verdict: .repeat(mark: 0x10))
            + reference(queue: 0, id: 106, verdict: .drop)
        #expect(batch.encode() == expected)
    }

    @Test func differentMarksAreDifferentRuns() {
        let batch = VerdictBatch(queue: 1)
        batch.append(id: 1, verdict: .repeat(mark: 1))
        batch.append(id: 2, verdict: .repeat(mark: 2))
        #expect(batch.messageCount == 2)
    }

    @Test func acceptMarkedIsAnAcceptCarryingTheMark() {
        #expect(Verdict.acceptMarked(mark: 0x4542).code == 1 && Verdict.acceptMarked(mark: 0x4542).mark == 0x4542)
        let batch = VerdictBatch(queue: 2)
        batch.append(id: 7, verdict: .accept)
        batch.append(id: 8, verdict: .acceptMarked(mark: 0x4542))
        batch.append(id: 9, verdict: .accept)
        #expect(batch.messageCount == 3)
        let expected =
            reference(queue: 2, id: 7, verdict: .accept)
            + reference(queue: 2, id: 8, verdict: .acceptMarked(mark: 0x4542))
            + reference(queue: 2, id: 9, verdict: .accept)
        #expect(batch.encode() == expected)
    }

    @Test func removeAllEmptiesTheBatch() {
        let batch = VerdictBatch(queue: 1)
        batch.append(id: 1, verdict: .drop)
        batch.removeAll()
        #expect(batch.count == 0)
        #expect(batch.encode().isEmpty)
    }

    @Test func singleVerdictsAreIdenticalToLibnetfilterQueue() {
        let batch = VerdictBatch(queue: 2)
        let verdicts: [Verdict] = [.accept, .drop, .drop, .repeat(mark: 7)]
        for (offset, verdict) in verdicts.enumerated() { batch.append(id: UInt32(40 + offset), verdict: verdict) }
        for (offset, verdict) in verdicts.enumerated() {
            #expect(batch[offset].id == UInt32(40 + offset))
            #expect(batch[offset].verdict == verdict)
            #expect(
                batch.encodeSingle(at: offset)
                    == reference(queue: 2, id: UInt32(40 + offset), verdict: verdict, single: true)
            )
        }
    }

    @Test func removeFirstKeepsTheRestAndItsRuns() {
        let batch = VerdictBatch(queue: 0)
        let verdicts: [Verdict] = [.accept, .accept, .drop, .drop, .accept]
        for (offset, verdict) in verdicts.enumerated() { batch.append(id: UInt32(1 + offset), verdict: verdict) }
        batch.removeFirst(3)
        #expect(batch.count == 2)
        #expect(batch.messageCount == 2)
        #expect(
            batch.encode() == reference(queue: 0, id: 4, verdict: .drop) + reference(queue: 0, id: 5, verdict: .accept)
        )
        batch.append(id: 6, verdict: .accept)
        #expect(batch.messageCount == 2)
        batch.removeFirst(3)
        #expect(batch.count == 0)
        #expect(batch.messageCount == 0)
    }
}
