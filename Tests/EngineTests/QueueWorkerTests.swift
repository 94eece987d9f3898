import ExitSet
import NetfilterQueue
import Synchronization
import Testing

@testable import Engine
import KernelSets
@testable import VerdictCache

/// A queue that hands out scripted bursts (an empty one is a receive timeout), fails chosen
/// verdict sends, and records every verdict it is sent. When the script runs out it asks the
/// worker to stop.
private final class ScriptedQueue: PacketQueue, @unchecked Sendable {
    struct State {
        var next = 0
        var sendCalls = 0
        var verdicts: [UInt32: [Verdict]] = [:]
        var closed = false
        var detached = false
        /// The receive turn (0, 1, ...) each send came after.
        var sendTurns: [Int] = []
    }

    let bursts: [[QueuedPacket]]
    /// Send calls (1, 2, ...) that fail without sending anything.
    let failingSends: Set<Int>
    let state = Mutex(State())
    var whenDone: @Sendable () -> Void = {}

    init(bursts: [[QueuedPacket]], failingSends: Set<Int> = []) {
        self.bursts = bursts
        self.failingSends = failingSends
    }

    func receive(into burst: PacketBurst) throws(NetfilterQueueError) -> Int {
        let index = state.withLock { state -> Int in
            defer { state.next += 1 }
            return state.next
        }
        guard index < bursts.count else {
            whenDone()
            burst.load([])
            return 0
        }
        burst.load(bursts[index])
        return burst.count
    }

    func receiveWaiting(into burst: PacketBurst) throws(NetfilterQueueError) -> Int {
        burst.load([])
        return 0
    }

    func send(_ batch: VerdictBatch) throws(NetfilterQueueError) {
        let failing = state.withLock { state -> Bool in
            state.sendCalls += 1
            state.sendTurns.append(state.next - 1)
            return failingSends.contains(state.sendCalls)
        }
        if failing { throw .syscall("send(netlink)", .noBufferSpace) }
        state.withLock { state in
            for index in 0..<batch.count {
                let (id, verdict) = batch[index]
                state.verdicts[id, default: []].append(verdict)
            }
        }
        batch.removeAll()
    }

    var statistics: QueueSocketStatistics { QueueSocketStatistics() }

    func close() { state.withLock { $0.closed = true } }

    func detach() -> Int32? {
        state.withLock { $0.detached = true }
        return 42
    }
}

/// The per-burst logic of `QueueWorker` (snapshot read, policy, tally, verdicts, top table)
/// through a stand-in queue: no root, no socket.
@Suite struct QueueWorkerTests {
    private static let listed: UInt32 = 0xC633_6407  // 198.51.100.7
    private static let clean: UInt32 = 0xCB00_7101  // 203.0.113.1

    private func packet(_ id: UInt32, listed: Bool) -> QueuedPacket {
        QueuedPacket(id: id, header: .ipv4(source: listed ? Self.listed : Self.clean, destination: Self.clean))
    }

    private func run(
        _ queue: ScriptedQueue,
        policy: Policy = Policy(),
        allowlist: [String] = [],
        writer: CacheWriter? = nil,
        cacheFamilies: UInt8 = 0
    ) -> QueueWorker {
        let cell = SnapshotCell(
            PolicySets(
                exits: ExitSet(["198.51.100.7"].compactMap(IPPrefix.init)),
                allowlist: ExitSet(allowlist.compactMap(IPPrefix.init)),
                generation: 7
            )
        )
        let worker = QueueWorker(
            queue: queue,
            configuration: QueueConfiguration(queue: 4),
            policy: policy,
            cpu: nil,
            cell: cell,
            log: { _ in }
        )
        worker.cacheWriter.withLock { $0 = writer }
        worker.cacheFamilies.store(cacheFamilies, ordering: .relaxed)
        queue.whenDone = { [worker] in worker.requestStop() }
        worker.start()
        worker.waitUntilFinished()
        return worker
    }

    @Test func everyPacketGetsItsOwnVerdictOnce() {
        var bursts: [[QueuedPacket]] = []
        var id: UInt32 = 1
        for size in [1, 5, 64, 3] {
            bursts.append(
                (0..<size).map { offset in
                    defer { id += 1 }
                    return packet(id, listed: offset % 3 == 1)
                }
            )
        }
        let queue = ScriptedQueue(bursts: bursts)
        let worker = run(queue)
        let state = queue.state.withLock { $0 }
        #expect(state.closed)
        for burst in bursts {
            for packet in burst {
                let expected: Verdict = packet.header == self.packet(0, listed: true).header ? .drop : .accept
                #expect(state.verdicts[packet.id] == [expected], "packet \(packet.id)")
            }
        }
        let counters = worker.counters.read()
        let total = UInt64(bursts.joined().count)
        #expect(counters[.packets] == total)
        #expect(
            counters[.dropped] == UInt64(bursts.joined().filter { $0.header == packet(0, listed: true).header }.count)
        )
        #expect(counters[.accepted] + counters[.dropped] == total)
        #expect(counters.burstSizes.counts.reduce(0, +) == 4)
        #expect(
            TopListedTable.top([worker.topListed], limit: 1) == [
                .init(address: "198.51.100.7", packets: counters[.dropped])
            ]
        )
    }

    /// Judge -> cache: a listed packet is dropped plain and its source handed to the drop
    /// cache, a clean one accepted and its source handed to the accept cache, each once
    /// (the recent-adds table), tagged with the snapshot's generation; an allowlisted
    /// packet, and everything in dry-run, hands nothing over.
    @Test func decisionsReachTheCacheWriterOncePerAddress() {
        let sent = Mutex<[SetRequest]>([])
        let writer = CacheWriter(
            targets: .init(dropTimeout: 60, acceptTimeout: 30),
            sink: { requests in
                sent.withLock { $0 += requests }
                var outcome = SetOutcome()
                outcome.codes = requests.map { _ in 0 }
                return outcome
            },
            log: { _ in }
        )
        let allowed: UInt32 = 0xCB00_7163  // 203.0.113.99
        let bursts = [
            [packet(1, listed: true), packet(2, listed: false), packet(3, listed: true)],
            [
                packet(4, listed: false),
                QueuedPacket(id: 5, header: .ipv4(source: allowed, destination: Self.listed)),
            ],
        ]
        let queue = ScriptedQueue(bursts: bursts)
        _ = run(queue, allowlist: ["203.0.113.99"], writer: writer, cacheFamilies: 0b0101)
        #expect(queue.state.withLock { $0.verdicts[1] } == [.drop])
        writer.drain()
        #expect(
            sent.withLock { $0 } == [
                .init(set: "exitblock-drop4", address: .v4(Self.listed), timeout: 60),
                .init(set: "exitblock-accept4", address: .v4(Self.clean), timeout: 30),
            ]
        )
        // Judged with generation 7: retired sets' adds are thrown away.
        writer.retire(below: 8)
        let again = ScriptedQueue(bursts: [[packet(6, listed: true)]])
        _ = run(again, writer: writer, cacheFamilies: 0b0101)
        writer.drain()
        #expect(sent.withLock { $0.count } == 2 && writer.figures.stale == 1)
        // Dry-run: nothing.
        let dry = ScriptedQueue(bursts: [[packet(7, listed: true), packet(8, listed: false)]])
        writer.retire(below: 0)
        _ = run(dry, policy: Policy(dryRun: true), writer: writer, cacheFamilies: 0b0101)
        writer.drain()
        #expect(sent.withLock { $0.count } == 2 && writer.figures.stale == 1)
    }

    /// A failed send keeps the burst's verdicts; they go out, first and unchanged, with the
    /// next burst's, and the last ones at shutdown.
    @Test func aFailedSendKeepsItsVerdictsForTheNextSend() {
        let bursts = [
            [packet(1, listed: true), packet(2, listed: false)], [packet(3, listed: false)], [packet(4, listed: true)],
        ]
        let queue = ScriptedQueue(bursts: bursts, failingSends: [1, 3])
        _ = run(queue)
        let state = queue.state.withLock { $0 }
        #expect(state.verdicts == [1: [.drop], 2: [.accept], 3: [.accept], 4: [.drop]])
        #expect(state.sendCalls == 4)
    }

    /// Verdicts kept from a failed send go out at the next receive timeout, not only with
    /// the next packet.
    @Test func keptVerdictsGoOutAtTheNextTimeout() {
        let queue = ScriptedQueue(
            bursts: [[packet(1, listed: true), packet(2, listed: false)], [], []],
            failingSends: [1]
        )
        let worker = run(queue)
        let state = queue.state.withLock { $0 }
        #expect(state.verdicts == [1: [.drop], 2: [.accept]])
        #expect(state.sendTurns == [0, 1])
        _ = worker
    }

    @Test func dryRunAcceptsAndCountsWouldDrop() {
        let queue = ScriptedQueue(bursts: [[packet(1, listed: true), packet(2, listed: false)]])
        let worker = run(queue, policy: Policy(dryRun: true))
        let state = queue.state.withLock { $0 }
        #expect(state.verdicts == [1: [.accept], 2: [.accept]])
        #expect(worker.counters.read()[.wouldDrop] == 1)
    }

    /// A hand-over stop: every packet read is answered, the queue is not closed (unbound) but
    /// detached, and its descriptor kept for the next process.
    @Test func aHandOverStopAnswersWhatWasReadAndLeavesTheQueueBound() {
        let bursts = [[packet(1, listed: true), packet(2, listed: false)], [packet(3, listed: false)]]
        let queue = ScriptedQueue(bursts: bursts)
        let worker = QueueWorker(
            queue: queue,
            configuration: QueueConfiguration(queue: 4),
            policy: Policy(),
            cpu: nil,
            cell: SnapshotCell(PolicySets(exits: ExitSet(["198.51.100.7"].compactMap(IPPrefix.init)))),
            log: { _ in }
        )
        queue.whenDone = { [worker] in worker.requestStop(keepingBound: true) }
        worker.start()
        worker.waitUntilFinished()
        worker.waitUntilFinished()  // a second wait returns at once
        let state = queue.state.withLock { $0 }
        #expect(state.verdicts == [1: [.drop], 2: [.accept], 3: [.accept]])
        #expect(!state.closed && state.detached)
        #expect(worker.handedDescriptor.withLock { $0 } == 42)
    }
}
