import ExitSet
import NetfilterQueue
import Synchronization
import Testing

@testable import Engine

/// A queue whose receives fail with the scripted errors first, then hand out the scripted
/// bursts; when both run out it asks the worker to stop.
private final class FaultyQueue: PacketQueue, @unchecked Sendable {
    struct State {
        var errors: [NetfilterQueueError]
        var bursts: [[QueuedPacket]]
        var verdicts: [UInt32: Verdict] = [:]
        var closed = false
    }

    let state: Mutex<State>
    let figures: QueueSocketStatistics
    var whenDone: @Sendable () -> Void = {}

    init(errors: [NetfilterQueueError] = [], bursts: [[QueuedPacket]] = [], enobufs: UInt64 = 0) {
        state = Mutex(State(errors: errors, bursts: bursts))
        var figures = QueueSocketStatistics()
        figures.enobufs = enobufs
        self.figures = figures
    }

    func receive(into burst: PacketBurst) throws(NetfilterQueueError) -> Int {
        let (error, packets) = state.withLock { state -> (NetfilterQueueError?, [QueuedPacket]?) in
            if !state.errors.isEmpty { return (state.errors.removeFirst(), nil) }
            if !state.bursts.isEmpty { return (nil, state.bursts.removeFirst()) }
            return (nil, nil)
        }
        if let error { throw error }
        guard let packets else {
            whenDone()
            burst.load([])
            return 0
        }
        burst.load(packets)
        return burst.count
    }

    func receiveWaiting(into burst: PacketBurst) throws(NetfilterQueueError) -> Int {
        burst.load([])
        return 0
    }

    func send(_ batch: VerdictBatch) throws(NetfilterQueueError) {
        state.withLock { state in
            for index in 0..<batch.count {
                let (id, verdict) = batch[index]
                state.verdicts[id] = verdict
            }
        }
        batch.removeAll()
    }

    var statistics: QueueSocketStatistics { figures }

    func close() { state.withLock { $0.closed = true } }
}

/// Which faults mean a lost binding, the backoff between attempts, and a worker binding its
/// queue again after one (stand-in queues: no root, no socket).
@Suite struct QueueFaultTests {
    private static let listed: UInt32 = 0xC633_6407  // 198.51.100.7

    @Test func enobufsIsCountedNotARebind() {
        #expect(QueueFault.receiveFailed(.syscall("recvmmsg(netlink)", .noBufferSpace), consecutive: 9) == .overrun)
    }

    @Test func aBrokenSocketIsALostBinding() {
        for errno: Errno in [.badFileDescriptor, .notSocket, .invalidArgument, .connectionRefused] {
            let fault = QueueFault.receiveFailed(.syscall("recvmmsg(netlink)", errno), consecutive: 1)
            guard case .bindingLost(let reason) = fault else {
                Issue.record("\(errno): \(fault)")
                continue
            }
            #expect(reason.contains("recvmmsg(netlink)") && reason.contains("errno \(errno.rawValue)"))
        }
        #expect(QueueFault.receiveFailed(.noAcknowledgement(queue: 1, operation: "bind"), consecutive: 1) != .transient)
    }

    @Test func noMemoryIsRetriedThenTakenAsLost() {
        let error = NetfilterQueueError.syscall("recvmmsg(netlink)", .noMemory)
        for consecutive in 1..<QueueFault.transientLimit {
            #expect(QueueFault.receiveFailed(error, consecutive: consecutive) == .transient)
        }
        #expect(QueueFault.receiveFailed(error, consecutive: QueueFault.transientLimit) != .transient)
        #expect(QueueFault.receiveFailed(.syscall("recvmmsg", .interrupted), consecutive: 99) == .transient)
    }

    @Test func theKernelTableTellsALostBinding() {
        func figures(_ queue: UInt16, _ portID: UInt32) -> KernelQueueFigures {
            KernelQueueFigures(
                queue: queue,
                portID: portID,
                waiting: 0,
                copyMode: 2,
                copyRange: 64,
                queueDropped: 0,
                userDropped: 0,
                lastID: 1
            )
        }
        #expect(QueueFault.kernelView([figures(3, 77)], queue: 3, portID: 77) == nil)
        #expect(QueueFault.kernelView(nil, queue: 3, portID: 77) == nil)
        #expect(QueueFault.kernelView([], queue: 3, portID: 0) == nil)
        #expect(
            QueueFault.kernelView([figures(4, 77)], queue: 3, portID: 77)
                == .bindingLost("the kernel no longer lists queue 3 as bound")
        )
        #expect(
            QueueFault.kernelView([figures(3, 91)], queue: 3, portID: 77)
                == .bindingLost("the kernel shows queue 3 bound by netlink port id 91, not ours (77)")
        )
    }

    @Test func aRefusedBindNamesTheHolderWhenTheTableShowsOne() {
        let refused = NetfilterQueueError.kernelRefused(queue: 3, operation: "bind", .notPermitted)
        let holder = KernelQueueFigures(
            queue: 3,
            portID: 91,
            waiting: 0,
            copyMode: 2,
            copyRange: 64,
            queueDropped: 0,
            userDropped: 0,
            lastID: 1
        )
        #expect(QueueFault.bindRefusal(refused, table: [holder]) == .queueTaken(queue: 3, portID: 91))
        #expect(QueueFault.bindRefusal(refused, table: []) == refused)
        #expect(QueueFault.bindRefusal(refused, table: nil) == refused)
        let other = NetfilterQueueError.syscall("socket", .noMemory)
        #expect(QueueFault.bindRefusal(other, table: [holder]) == other)
    }

    @Test func backoffDoublesUpToHalfASecond() {
        let delays = (1...8).map { QueueFault.backoffSeconds(attempt: $0) }
        #expect(delays == [0.02, 0.04, 0.08, 0.16, 0.32, 0.5, 0.5, 0.5])
    }

    /// A receive fails with EBADF: the worker closes the queue, is refused twice (another
    /// process holds it), binds it on the third attempt and judges the next packets there;
    /// counted, logged once per kind, its socket figures carried over.
    @Test func aWorkerBindsItsQueueAgain() {
        let broken = FaultyQueue(errors: [.syscall("recvmmsg(netlink)", .badFileDescriptor)], enobufs: 3)
        let fresh = FaultyQueue(
            bursts: [[QueuedPacket(id: 9, header: .ipv4(source: Self.listed, destination: 1))]],
            enobufs: 2
        )
        let attempts = Mutex(0)
        let lines = Mutex<[String]>([])
        let worker = QueueWorker(
            queue: broken,
            configuration: QueueConfiguration(queue: 6),
            policy: Policy(),
            cpu: nil,
            cell: SnapshotCell(PolicySets(exits: ExitSet(["198.51.100.7"].compactMap(IPPrefix.init)))),
            reopen: { () throws(NetfilterQueueError) -> any PacketQueue in
                let attempt = attempts.withLock { count -> Int in
                    count += 1
                    return count
                }
                if attempt < 3 { throw .queueTaken(queue: 6, portID: 4242) }
                return fresh
            },
            log: { line in lines.withLock { $0.append(line) } }
        )
        fresh.whenDone = { [worker] in worker.requestStop() }
        worker.start()
        worker.waitUntilFinished()
        let counters = worker.counters.read()
        #expect(broken.state.withLock { $0.closed })
        #expect(fresh.state.withLock { $0.verdicts } == [9: .drop])
        #expect(counters[.receiveErrors] == 1)
        #expect(counters[.rebinds] == 1)
        #expect(counters[.rebindFailures] == 2)
        #expect(counters[.enobufs] == 5)
        #expect(worker.unboundSince.load(ordering: .relaxed) == 0)
        let log = lines.withLock { $0 }
        #expect(log.filter { $0.hasPrefix("queue 6: binding lost: recvmmsg(netlink) failed") }.count == 1)
        #expect(log.filter { $0.hasPrefix("queue 6: binding again failed: NFQUEUE 6 is already bound") }.count == 1)
        #expect(log.filter { $0.hasPrefix("queue 6: bound again after") && $0.hasSuffix("(attempt 3)") }.count == 1)
    }

    /// ENOBUFS from a receive is counted and the socket kept: no attempt to bind again.
    @Test func anOverrunKeepsTheSocket() {
        let queue = FaultyQueue(
            errors: [.syscall("recvmmsg(netlink)", .noBufferSpace)],
            bursts: [[QueuedPacket(id: 1, header: .ipv4(source: 5, destination: 6))]]
        )
        let attempts = Mutex(0)
        let worker = QueueWorker(
            queue: queue,
            configuration: QueueConfiguration(queue: 7),
            policy: Policy(),
            cpu: nil,
            cell: SnapshotCell(PolicySets(exits: .empty)),
            reopen: { () throws(NetfilterQueueError) -> any PacketQueue in
                attempts.withLock { $0 += 1 }
                return FaultyQueue()
            },
            log: { _ in }
        )
        queue.whenDone = { [worker] in worker.requestStop() }
        worker.start()
        worker.waitUntilFinished()
        #expect(attempts.withLock { $0 } == 0)
        #expect(queue.state.withLock { $0.verdicts } == [1: .accept])
        #expect(worker.counters.read()[.rebinds] == 0)
    }
}
