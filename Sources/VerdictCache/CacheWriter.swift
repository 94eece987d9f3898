import Dispatch
import KernelSets
import LinuxSystem
import Rules
import Synchronization

/// The thread that puts the workers' cache decisions into the kernel's sets: workers hand it
/// the addresses of a burst (one lock per burst, no system call), it sends them in batches
/// through netlink (`IpsetClient`, or `NftSetClient` for the nf_tables sets), one send per batch.
/// The engine's workers call `hand`, its publish `retire`; the rest is the cache's own.
///
/// The publish race: an address judged with the sets of generation G must not land in a set
/// after a publish of G+1 pruned the sets (a de-listed address would stay dropped for the
/// timeout). `retire(below:)`, called by the publish after its grace period and before its
/// prune, raises the oldest generation accepted; the writer checks the generation and sends
/// under the same lock, so every add of an older generation either reached the kernel before
/// the prune lists the sets, or is thrown away (its address is judged again on its next packet).
public final class CacheWriter: Sendable {
    /// One address a worker decided to cache.
    public struct Candidate: Sendable, Equatable {
        /// The address: IPv6 as two halves; IPv4 in the low 32 bits of `low`.
        var high: UInt64
        var low: UInt64
        var isIPv6: Bool
        /// Accept cache (else drop cache).
        var accept: Bool
        /// `PolicySets.generation` of the sets that judged it.
        var generation: UInt64

        public init(high: UInt64, low: UInt64, isIPv6: Bool, accept: Bool, generation: UInt64) {
            self.high = high
            self.low = low
            self.isIPv6 = isIPv6
            self.accept = accept
            self.generation = generation
        }

        var address: SetAddress { isIPv6 ? .v6(high: high, low: low) : .v4(UInt32(truncatingIfNeeded: low)) }
    }

    /// What the writer did.
    struct Figures: Sendable, Equatable {
        var dropAdds: UInt64 = 0
        var acceptAdds: UInt64 = 0
        /// Accept-cache adds the kernel refused because the set was full.
        var acceptFull: UInt64 = 0
        /// Drop-cache adds refused because the set was full.
        var dropFull: UInt64 = 0
        /// Addresses judged with sets a publish had replaced: thrown away.
        var stale: UInt64 = 0
        /// Addresses dropped because the writer fell behind (the hand-off queue was full).
        var overflow: UInt64 = 0
        /// Refused adds and failed sends.
        var errors: UInt64 = 0
    }

    /// Where the requests go: `IpsetClient.add` or `NftSetClient.add` in the daemon, a
    /// recorder in tests.
    typealias Sink = @Sendable ([SetRequest]) throws -> SetOutcome

    /// The set names and timeouts.
    struct Targets: Sendable {
        var dropTimeout: UInt32
        var acceptTimeout: UInt32
        /// Whose set names and "set full" answers.
        var backend: CacheBackend = .ipset
        /// The ipsets with counters: an add starts its entry's counters at 0 (`SetRequest`).
        var countedSets: Set<String> = []

        func request(_ candidate: Candidate) -> SetRequest {
            let family: RuleSettings.Family = candidate.isIPv6 ? .ipv6 : .ipv4
            let set = backend.name(candidate.accept ? .accept : .drop, family)
            return SetRequest(
                set: set,
                address: candidate.address,
                timeout: candidate.accept ? acceptTimeout : dropTimeout,
                resetsCounters: countedSets.contains(set)
            )
        }
    }

    /// Candidates waiting for the writer; bounded by `queueLimit`.
    private let pending = Mutex<[Candidate]>([])
    /// The oldest generation still sent; held while sending.
    private let oldestGeneration = Mutex<UInt64>(0)
    private let figureState = Mutex<Figures>(Figures())
    private let wake = DispatchSemaphore(value: 0)
    private let stopRequested = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let sink: Sink
    private let targets: Targets
    private let log: @Sendable (String) -> Void
    static let queueLimit = 65_536

    init(targets: Targets, sink: @escaping Sink, log: @escaping @Sendable (String) -> Void) {
        self.targets = targets
        self.sink = sink
        self.log = log
    }

    /// Takes a worker's burst of candidates (called once per burst that has any). Wakes the
    /// writer only when the queue was empty: a non-empty queue is already due to be drained
    /// (the writer takes all of it each turn), so a flood costs one wake-up per writer turn,
    /// not one per burst.
    public func hand(_ candidates: [Candidate]) {
        let (lost, wasEmpty) = pending.withLock { queue -> (Int, Bool) in
            let wasEmpty = queue.isEmpty
            let room = max(0, Self.queueLimit - queue.count)
            queue += candidates.prefix(room)
            return (candidates.count - min(room, candidates.count), wasEmpty)
        }
        if lost > 0 { figureState.withLock { $0.overflow &+= UInt64(lost) } }
        if wasEmpty { wake.signal() }
    }

    /// From now on, candidates judged with sets older than `generation` are thrown away.
    /// Returns once no send of an older candidate is under way.
    public func retire(below generation: UInt64) {
        oldestGeneration.withLock { $0 = max($0, generation) }
    }

    /// Sends what is pending now (one writer turn).
    func drain() {
        let batch = pending.withLock { queue -> [Candidate] in
            let taken = queue
            queue.removeAll(keepingCapacity: true)
            return taken
        }
        guard !batch.isEmpty else { return }
        var figures = Figures()
        let fullCodes = targets.backend.fullCodes
        oldestGeneration.withLock { oldest in
            var requests: [SetRequest] = []
            var kinds: [Bool] = []
            var seen = Set<SetRequest>()
            for candidate in batch {
                guard candidate.generation >= oldest else {
                    figures.stale += 1
                    continue
                }
                let request = targets.request(candidate)
                guard seen.insert(request).inserted else { continue }
                requests.append(request)
                kinds.append(candidate.accept)
            }
            guard !requests.isEmpty else { return }
            do {
                let outcome = try sink(requests)
                for (index, accept) in kinds.enumerated() {
                    let code = index < outcome.codes.count ? outcome.codes[index] : 0
                    switch (code, accept) {
                    case (0, true): figures.acceptAdds += 1
                    case (0, false): figures.dropAdds += 1
                    case (_, true) where fullCodes.contains(code): figures.acceptFull += 1
                    case (_, false) where fullCodes.contains(code): figures.dropFull += 1
                    default: figures.errors += 1
                    }
                }
                if let code = outcome.firstFailure { logRefusal(code: code, count: outcome.failed) }
            } catch {
                figures.errors += 1
                log("verdict cache: \(error)")
            }
        }
        figureState.withLock {
            $0.dropAdds &+= figures.dropAdds
            $0.acceptAdds &+= figures.acceptAdds
            $0.acceptFull &+= figures.acceptFull
            $0.dropFull &+= figures.dropFull
            $0.stale &+= figures.stale
            $0.errors &+= figures.errors
        }
    }

    var figures: Figures { figureState.withLock { $0 } }

    /// The last refusal logged (code, uptime in ns): a set removed under a running daemon
    /// makes every batch fail, which must not flood the log (the errors counter has them all).
    private let lastRefusal = Mutex<(code: Int32, at: UInt64)?>(nil)

    /// Logs a refusal unless the same code was logged within the last minute.
    private func logRefusal(code: Int32, count: Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        let due = lastRefusal.withLock { last -> Bool in
            if let last, last.code == code, now &- last.at < 60_000_000_000 { return false }
            last = (code, now)
            return true
        }
        guard due else { return }
        let reason = code == 2 ? " (ENOENT: a cache set is gone; \(targets.backend.installHint))" : ""
        log("verdict cache: the kernel refused \(count) add(s): error \(code)\(reason); logged once a minute")
    }

    /// Starts the writer thread.
    func start() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        SystemThread.start(name: "exitblock-cachw") { [self] in
            while !stopRequested.load(ordering: .relaxed) {
                _ = wake.wait(timeout: .now() + .milliseconds(200))
                drain()
            }
            finished.signal()
        }
    }

    /// Stops the thread (what is pending is dropped: the sets are emptied at stop anyway).
    func stop() {
        stopRequested.store(true, ordering: .relaxed)
        guard started.load(ordering: .relaxed) else { return }
        wake.signal()
        finished.wait()
    }
}
