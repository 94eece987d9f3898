import ExitSet
import Dispatch
import LinuxSystem
import NetfilterQueue
import Synchronization
import VerdictCache

/// One OS thread serving one NFQUEUE: receive a burst, read the snapshot once, decide every
/// packet, answer the burst with one send, add the burst's tally to the counters and the
/// burst's listed addresses to the top table.
///
/// The queue, burst and verdict buffers are confined to the worker's thread once `start`
/// is called; that is what makes the unchecked Sendable conformance sound.
final class QueueWorker: @unchecked Sendable {
    let queueNumber: UInt16
    let counters = WorkerCounters()
    /// The listed addresses this worker saw most.
    let topListed = TopListedTable()
    /// The verdict caches in force (bit 0: drop IPv4, 1: drop IPv6, 2: accept IPv4, 3: accept
    /// IPv6), set once the daemon has found the caches' rules; read once per burst.
    let cacheFamilies = Atomic<UInt8>(0)
    /// The writer the cache candidates go to; set by `Engine.attach` before `start`.
    let cacheWriter = Mutex<CacheWriter?>(nil)
    /// This burst's cache candidates (worker thread only; capacity of one burst).
    private var candidates: [CacheWriter.Candidate] = []
    private var recentAdds = RecentCacheAdds()
    /// The bound queue; an `UnboundQueue` while its binding is being made again.
    private var queue: any PacketQueue
    /// Binds the queue anew (same configuration, new socket) after its binding was lost; nil
    /// for a stand-in that cannot be bound again.
    private let reopen: (() throws(NetfilterQueueError) -> any PacketQueue)?
    /// The kernel's queue table, to see that the binding is still ours; nil when not readable.
    private let kernelTable: KernelQueueTable?
    /// Figures of sockets closed after a lost binding, added to the current socket's.
    private var retiredStatistics = QueueSocketStatistics()
    /// When the queue lost its binding (monotonic ns, `DispatchTime.uptimeNanoseconds`); 0
    /// while bound. Written by the worker, read by the stats.
    let unboundSince = Atomic<UInt64>(0)
    private let burst: PacketBurst
    private let verdicts: VerdictBatch
    private let reader: SnapshotReader<PolicySets>
    private let policy: Policy
    private let cpu: Int?
    private let stopRequested = Atomic<Bool>(false)
    /// Set with the stop request of a hand-over: answer what was read, leave the queue bound.
    private let keepBound = Atomic<Bool>(false)
    /// The queue socket's descriptor once a hand-over stop has finished (nil otherwise).
    let handedDescriptor = Mutex<Int32?>(nil)
    /// Bumped once per loop turn (at least every receive timeout): the watchdog's sign of life.
    let heartbeat = Atomic<UInt64>(0)
    private let finished = DispatchSemaphore(value: 0)
    private let log: @Sendable (String) -> Void

    /// Binds the queue now, so that a failure is reported before anything starts.
    convenience init(
        configuration: QueueConfiguration,
        policy: Policy,
        cpu: Int?,
        cell: SnapshotCell<PolicySets>,
        kernelTable: KernelQueueTable? = nil,
        log: @escaping @Sendable (String) -> Void
    ) throws(NetfilterQueueError) {
        let queue = try NetfilterQueue(configuration: configuration)
        self.init(
            queue: queue,
            configuration: configuration,
            policy: policy,
            cpu: cpu,
            cell: cell,
            reopen: { () throws(NetfilterQueueError) -> any PacketQueue in
                try NetfilterQueue(configuration: configuration)
            },
            kernelTable: kernelTable,
            log: log
        )
    }

    /// A worker over a queue already bound (or a stand-in for tests).
    init(
        queue: any PacketQueue,
        configuration: QueueConfiguration,
        policy: Policy,
        cpu: Int?,
        cell: SnapshotCell<PolicySets>,
        reopen: (() throws(NetfilterQueueError) -> any PacketQueue)? = nil,
        kernelTable: KernelQueueTable? = nil,
        log: @escaping @Sendable (String) -> Void
    ) {
        queueNumber = configuration.queue
        self.queue = queue
        self.reopen = reopen
        self.kernelTable = kernelTable
        burst = PacketBurst(configuration: configuration)
        verdicts = VerdictBatch(queue: configuration.queue, capacity: configuration.burstSize)
        reader = cell.makeReader()
        self.policy = policy
        self.cpu = cpu
        self.log = log
        candidates.reserveCapacity(configuration.burstSize)
    }

    func start() {
        SystemThread.start(name: "exitblock-q\(queueNumber)") { [self] in
            run()
            finished.signal()
        }
    }

    /// Replaces the queue (a stand-in made at init) with one adopted from another process;
    /// before `start` only.
    func replaceQueue(_ queue: any PacketQueue) {
        self.queue = queue
    }

    /// Asks the worker to stop; it notices within one receive timeout. `keepingBound`: for a
    /// hand-over, it answers only the packets it has read, and leaves the rest in the socket
    /// and the queue bound (see `finishKeepingBound`).
    func requestStop(keepingBound: Bool = false) {
        if keepingBound { keepBound.store(true, ordering: .relaxed) }
        stopRequested.store(true, ordering: .relaxed)
    }

    /// Waits until the worker has answered its last packets and unbound its queue (or left it
    /// bound for a hand-over). Returns at once when it already has.
    func waitUntilFinished() {
        finished.wait()
        finished.signal()
    }

    private func run() {
        pinToCPU()
        let writer = cacheWriter.withLock { $0 }
        var failures = 0
        var lastReceiveError: NetfilterQueueError?
        var lastCheck = DispatchTime.now().uptimeNanoseconds
        while !stopRequested.load(ordering: .relaxed) {
            heartbeat.wrappingAdd(1, ordering: .relaxed)
            do {
                guard try queue.receive(into: burst) > 0 else {
                    // A receive timeout: verdicts kept from a failed send must not wait for
                    // the next packet; and an idle queue may be idle because it lost its binding.
                    if verdicts.count > 0 { sendKeptVerdicts() }
                    checkBinding(&lastCheck)
                    continue
                }
                failures = 0
                lastReceiveError = nil
            } catch {
                failures += 1
                receiveFailed(error, failures: &failures, last: &lastReceiveError)
                continue
            }
            answerBurst(writer)
        }
        finish()
    }

    private func pinToCPU() {
        guard let cpu else { return }
        do {
            try CPUAffinity.pinCurrentThread(toCPU: cpu)
        } catch {
            log("queue \(queueNumber): cannot pin to CPU \(cpu): \(error); running unpinned")
        }
    }

    /// After a stop request: answers what is already waiting in the socket, then unbinds (or,
    /// for a hand-over, leaves the queue bound: `finishKeepingBound`).
    private func finish() {
        if keepBound.load(ordering: .relaxed) {
            finishKeepingBound()
            return
        }
        while (try? queue.receiveWaiting(into: burst)) ?? 0 > 0 {
            answerBurst(nil)
        }
        // Verdicts kept from a failed send get a last chance; what is left the unbind drops.
        if verdicts.count > 0 { sendKeptVerdicts() }
        if verdicts.count > 0 {
            log("queue \(queueNumber): \(verdicts.count) verdicts could not be sent; the unbind drops them")
        }
        queue.close()
        mirrorSocketStatistics()
    }

    /// The end of a hand-over stop: the packets already read are answered; those still in the
    /// socket wait there for the process the socket goes to; the queue stays bound.
    private func finishKeepingBound() {
        while queue.heldPackets > 0, (try? queue.receive(into: burst)) ?? 0 > 0 {
            answerBurst(nil)
        }
        if verdicts.count > 0 { sendKeptVerdicts() }
        if verdicts.count > 0 {
            log("queue \(queueNumber): \(verdicts.count) verdicts could not be sent before the hand-over")
        }
        mirrorSocketStatistics()
        let descriptor = queue.detach()
        handedDescriptor.withLock { $0 = descriptor }
    }

    /// Counts a failed receive and acts on it as `QueueFault` decides: retry, or bind again.
    private func receiveFailed(_ error: NetfilterQueueError, failures: inout Int, last: inout NetfilterQueueError?) {
        counters.add(Self.tally(.receiveErrors))
        switch QueueFault.receiveFailed(error, consecutive: failures) {
        case .overrun, .transient:
            if error != last { log("queue \(queueNumber): \(error); retrying") }
            last = error
            SystemThread.sleep(seconds: 0.01)
        case .bindingLost(let reason):
            rebind(reason: reason)
            failures = 0
            last = nil
        }
    }

    /// On an idle turn, at most every `QueueFault.checkIntervalNanoseconds`: whether the
    /// kernel's table still shows this socket on the queue; binds it again when not.
    private func checkBinding(_ lastCheck: inout UInt64) {
        guard let kernelTable, reopen != nil else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now &- lastCheck >= QueueFault.checkIntervalNanoseconds else { return }
        lastCheck = now
        let portID = queue.portID
        if case .bindingLost(let reason)? = QueueFault.kernelView(
            kernelTable.read(),
            queue: queueNumber,
            portID: portID
        ) {
            rebind(reason: reason)
        }
    }

    /// The binding is gone: closes the socket, then binds the queue on a new one with the same
    /// configuration, waiting `QueueFault.backoffSeconds` between refused attempts, until it
    /// is bound or the worker is asked to stop. Logs the loss once, a refusal once per kind,
    /// and the recovery; counts the rebind and each refused attempt.
    private func rebind(reason: String) {
        guard let reopen else {
            log("queue \(queueNumber): binding lost: \(reason); this queue cannot be bound again")
            return
        }
        let lost = DispatchTime.now().uptimeNanoseconds
        unboundSince.store(lost, ordering: .relaxed)
        log("queue \(queueNumber): binding lost: \(reason); binding it again")
        retiredStatistics = retiredStatistics + queue.statistics
        // Packet ids of the lost binding mean nothing to the next one.
        verdicts.removeAll()
        queue.close()
        queue = UnboundQueue()
        var attempt = 0
        var lastError: NetfilterQueueError?
        while !stopRequested.load(ordering: .relaxed) {
            attempt += 1
            heartbeat.wrappingAdd(1, ordering: .relaxed)
            do {
                queue = try reopen()
                unboundSince.store(0, ordering: .relaxed)
                counters.add(Self.tally(.rebinds))
                let milliseconds = (DispatchTime.now().uptimeNanoseconds &- lost) / 1_000_000
                log("queue \(queueNumber): bound again after \(milliseconds) ms (attempt \(attempt))")
                mirrorSocketStatistics()
                return
            } catch {
                let error = QueueFault.bindRefusal(error, table: kernelTable?.read())
                counters.add(Self.tally(.rebindFailures))
                if error != lastError { log("queue \(queueNumber): binding again failed: \(error); retrying") }
                lastError = error
                SystemThread.sleep(seconds: QueueFault.backoffSeconds(attempt: attempt))
            }
        }
    }

    /// The per-burst work: no allocation, no lock, one snapshot read, one send; with the
    /// verdict caches on, one hand-off (one lock; a wake-up only when the writer's queue was
    /// empty) of the burst's new cache candidates.
    @inline(__always)
    private func answerBurst(_ writer: CacheWriter?) {
        var tally = CounterValues()
        tally.values[Counter.bursts1.slot &+ BurstSizeCounts.bucket(forSize: burst.count)] = 1
        var updatingTop = false
        let policy = policyForBurst()
        var now: UInt64 = 0
        reader.read { sets in
            let generation = sets.generation
            for index in 0..<burst.count {
                let packet = burst[index]
                let judgement = policy.judge(packet, in: sets)
                let decision = judgement.decision
                if judgement.cached && writer != nil {
                    if now == 0 { now = DispatchTime.now().uptimeNanoseconds }
                    noteCandidate(packet.header, decision, policy: policy, generation: generation, now: now)
                }
                tally.count(packet.header, judgement)
                verdicts.append(id: packet.id, verdict: judgement.verdict)
                if decision.isListed {
                    if !updatingTop {
                        topListed.beginUpdate()
                        updatingTop = true
                    }
                    recordListed(packet.header, decision)
                }
            }
        }
        if updatingTop { topListed.endUpdate() }
        if !candidates.isEmpty, let writer {
            writer.hand(candidates)
            candidates.removeAll(keepingCapacity: true)
        }
        do {
            try queue.send(verdicts)
        } catch {
            // The unsent verdicts stay in `verdicts`, first in line for the next send: no later
            // batch message can decide these packets (see VerdictSender).
            log("queue \(queueNumber): sending verdicts: \(error); \(verdicts.count) kept for the next send")
        }
        counters.add(tally)
        mirrorSocketStatistics()
    }

    /// Sends the verdicts a failed send kept (see VerdictSender), outside a burst.
    private func sendKeptVerdicts() {
        do {
            try queue.send(verdicts)
        } catch {
            log("queue \(queueNumber): sending kept verdicts: \(error); \(verdicts.count) still kept")
        }
        mirrorSocketStatistics()
    }

    /// The policy with the verdict caches' families as attached now (one relaxed load).
    @inline(__always)
    private func policyForBurst() -> Policy {
        var policy = self.policy
        let families = cacheFamilies.load(ordering: .relaxed)
        policy.dropCacheIPv4 = policy.dropCacheIPv4 || families & 1 != 0
        policy.dropCacheIPv6 = policy.dropCacheIPv6 || families & 2 != 0
        policy.acceptCacheIPv4 = policy.acceptCacheIPv4 || families & 4 != 0
        policy.acceptCacheIPv6 = policy.acceptCacheIPv6 || families & 8 != 0
        return policy
    }

    /// Appends the address a cache keys `decision` on to this burst's candidates, unless it
    /// was handed over lately (see `RecentCacheAdds`).
    @inline(__always)
    private func noteCandidate(
        _ header: NetworkHeader,
        _ decision: Decision,
        policy: Policy,
        generation: UInt64,
        now: UInt64
    ) {
        let source = policy.cacheKeyIsSource(decision)
        let accept = !decision.isListed
        let high: UInt64
        let low: UInt64
        let isIPv6: Bool
        switch header {
        case .ipv4(let sourceAddress, let destinationAddress):
            high = 0
            low = UInt64(source ? sourceAddress : destinationAddress)
            isIPv6 = false
        case .ipv6(let sourceAddress, let destinationAddress):
            let address = source ? sourceAddress : destinationAddress
            high = address.high
            low = address.low
            isIPv6 = true
        case .unparsable:
            return
        }
        // The IPv6 flag folded into the key keeps ::a.b.c.d apart from a.b.c.d.
        guard
            !recentAdds.seen(
                high: high,
                low: low ^ (isIPv6 ? 1 << 63 : 0),
                accept: accept,
                generation: generation,
                now: now
            ),
            candidates.count < candidates.capacity
        else { return }
        candidates.append(
            CacheWriter.Candidate(high: high, low: low, isIPv6: isIPv6, accept: accept, generation: generation)
        )
    }

    /// Adds the listed address of a packet (the source or the destination, whichever matched)
    /// to the top table.
    @inline(__always)
    private func recordListed(_ header: NetworkHeader, _ decision: Decision) {
        let source = decision == .listedSource
        switch header {
        case .ipv4(let sourceAddress, let destinationAddress):
            let key = TopListedTable.key(ipv4: source ? sourceAddress : destinationAddress)
            topListed.add(high: key.high, low: key.low)
        case .ipv6(let sourceAddress, let destinationAddress):
            let address = source ? sourceAddress : destinationAddress
            topListed.add(high: address.high, low: address.low)
        case .unparsable:
            break
        }
    }

    /// Copies the socket's own figures into the counters (plain stores).
    @inline(__always)
    private func mirrorSocketStatistics() {
        let statistics = retiredStatistics + queue.statistics
        counters.set(.enobufs, to: statistics.enobufs)
        counters.set(.verdictErrors, to: statistics.verdictErrors)
        counters.set(.sendErrors, to: statistics.sendErrors)
        counters.set(.verdictResends, to: statistics.verdictResends)
        counters.set(.singleVerdicts, to: statistics.singleVerdicts)
        counters.set(.deferredVerdicts, to: statistics.deferredVerdicts)
        counters.set(.malformedMessages, to: statistics.malformedMessages)
        counters.set(.truncatedDatagrams, to: statistics.truncatedDatagrams)
        counters.set(.overflow, to: statistics.overflow)
    }

    private static func tally(_ counter: Counter) -> CounterValues {
        var values = CounterValues()
        values[counter] = 1
        return values
    }
}
