import NetfilterQueue
import Testing
import SeededRandom

/// Fault injection through the `VerdictTransport` seam: whatever the sends do, no listed
/// packet is accepted and every packet gets exactly one verdict, its own.
@Suite struct VerdictSenderTests {
    /// A burst: ids and whether each is listed (DROP) or not (ACCEPT).
    private func answer(
        _ packets: [(id: UInt32, listed: Bool)],
        batch: VerdictBatch,
        sender: VerdictSender,
        kernel: KernelQueueModel
    ) -> NetfilterQueueError? {
        for packet in packets {
            kernel.queue(packet.id)
            batch.append(id: packet.id, verdict: packet.listed ? .drop : .accept)
        }
        return sender.send(batch)
    }

    private func expectOwnVerdicts(_ kernel: KernelQueueModel, listed: Set<UInt32>, ids: ClosedRange<UInt32>) {
        #expect(kernel.waiting.isEmpty)
        for id in ids {
            let codes = kernel.verdicts[id] ?? []
            #expect(codes.count == 1, "packet \(id) got \(codes.count) verdicts")
            #expect(codes.first == (listed.contains(id) ? Verdict.drop.code : Verdict.accept.code), "packet \(id)")
        }
    }

    /// The bug this guards against: burst 1's send fails, burst 2's all-ACCEPT batch message
    /// names a higher id and would accept burst 1's listed packet.
    @Test func aFailedBurstIsNotDecidedByTheNextBurstsBatch() {
        let kernel = KernelQueueModel()
        let sender = VerdictSender(transport: kernel)
        let batch = VerdictBatch(queue: 0)
        // Every send of the first burst fails: the batch and its two resends (calls 1-3), then
        // the first single verdict and its two resends (4-6), which stops the singles.
        kernel.fault = { call, _ in call <= 6 ? .errno(.noBufferSpace) : nil }
        let first = answer([(1, true), (2, false)], batch: batch, sender: sender, kernel: kernel)
        #expect(first != nil)
        #expect(batch.count == 2)
        #expect(kernel.verdicts.isEmpty)
        let second = answer([(3, false), (4, false)], batch: batch, sender: sender, kernel: kernel)
        #expect(second == nil)
        #expect(batch.count == 0)
        expectOwnVerdicts(kernel, listed: [1], ids: 1...4)
        #expect(sender.statistics.deferredVerdicts == 2)
    }

    @Test func aTransientFailureIsResent() {
        let kernel = KernelQueueModel()
        let sender = VerdictSender(transport: kernel)
        let batch = VerdictBatch(queue: 0)
        kernel.fault = { call, _ in call == 1 ? .errno(.noBufferSpace) : nil }
        #expect(answer([(1, false), (2, true), (3, false)], batch: batch, sender: sender, kernel: kernel) == nil)
        expectOwnVerdicts(kernel, listed: [2], ids: 1...3)
        #expect(sender.statistics.sendErrors == 1)
        #expect(sender.statistics.resends == 1)
        #expect(sender.statistics.singleVerdicts == 0)
        #expect(kernel.sendCalls == 2)
    }

    /// A lasting error on the batch (EMSGSIZE here) is not resent; each packet is answered alone.
    @Test func aLastingFailureAnswersPacketsOneByOne() {
        let kernel = KernelQueueModel()
        let sender = VerdictSender(transport: kernel)
        let batch = VerdictBatch(queue: 0)
        let tooLong = Errno(rawValue: 90)  // EMSGSIZE
        kernel.fault = { _, bytes in bytes.count > 32 ? .errno(tooLong) : nil }
        let packets: [(id: UInt32, listed: Bool)] = [(10, false), (11, true), (12, true), (13, false), (14, true)]
        #expect(answer(packets, batch: batch, sender: sender, kernel: kernel) == nil)
        expectOwnVerdicts(kernel, listed: [11, 12, 14], ids: 10...14)
        #expect(sender.statistics.resends == 0)
        #expect(sender.statistics.singleVerdicts == 5)
        #expect(kernel.sendCalls == 6)
    }

    @Test func aShortSendIsSentAgain() {
        let kernel = KernelQueueModel()
        let sender = VerdictSender(transport: kernel)
        let batch = VerdictBatch(queue: 0)
        kernel.fault = { call, _ in call == 1 ? .short : nil }
        #expect(answer([(1, true), (2, false)], batch: batch, sender: sender, kernel: kernel) == nil)
        expectOwnVerdicts(kernel, listed: [1], ids: 1...2)
        #expect(sender.statistics.resends == 1)
    }

    /// A single verdict that fails stops the one-by-one answers; the rest go first next time.
    @Test func singlesThatFailMidwayKeepTheRestInOrder() {
        let kernel = KernelQueueModel()
        let sender = VerdictSender(transport: kernel, attempts: 1)
        let batch = VerdictBatch(queue: 0)
        // Call 1: the batch fails; 2, 3: two singles pass; 4: the third single fails.
        kernel.fault = { call, _ in call == 1 || call == 4 ? .errno(Errno(rawValue: 1)) : nil }
        let packets: [(id: UInt32, listed: Bool)] = [(1, false), (2, true), (3, true), (4, false), (5, true)]
        #expect(answer(packets, batch: batch, sender: sender, kernel: kernel) != nil)
        #expect(batch.count == 3)
        #expect(batch[0].id == 3 && batch[0].verdict == .drop)
        #expect(batch[1].id == 4 && batch[1].verdict == .accept)
        #expect(batch[2].id == 5 && batch[2].verdict == .drop)
        #expect(answer([(6, false)], batch: batch, sender: sender, kernel: kernel) == nil)
        expectOwnVerdicts(kernel, listed: [2, 3, 5], ids: 1...6)
        #expect(sender.statistics.singleVerdicts == 2)
        #expect(sender.statistics.deferredVerdicts == 3)
    }

    /// Random bursts, random failures of every kind, then a working socket: the invariant holds.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func randomFaultsNeverAcceptAListedPacket(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let kernel = KernelQueueModel()
        let sender = VerdictSender(transport: kernel)
        let batch = VerdictBatch(queue: 0)
        let faults: [KernelQueueModel.Fault] = [
            .errno(.noBufferSpace), .errno(.resourceTemporarilyUnavailable), .errno(Errno(rawValue: 1)), .short,
        ]
        kernel.fault = { _, _ in
            random.next() % 3 == 0 ? faults[Int(random.next() % UInt64(faults.count))] : nil
        }
        var listed: Set<UInt32> = []
        var next: UInt32 = 1
        for _ in 0..<200 {
            var packets: [(id: UInt32, listed: Bool)] = []
            for _ in 0..<(1 + Int(random.next() % 64)) {
                let isListed = random.next() % 4 == 0
                if isListed { listed.insert(next) }
                packets.append((next, isListed))
                next += 1
            }
            _ = answer(packets, batch: batch, sender: sender, kernel: kernel)
        }
        kernel.fault = { _, _ in nil }
        #expect(sender.send(batch) == nil)
        expectOwnVerdicts(kernel, listed: listed, ids: 1...(next - 1))
    }
}
