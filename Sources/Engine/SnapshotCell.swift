import LinuxSystem
import Synchronization

/// Lock-free publication of an immutable snapshot, with quiescent-state-based reclamation.
///
/// Readers (the queue workers) never wait and never take a reference count: a read section
/// is one sequentially consistent store (the reader's slot) and one load (the pointer). The
/// writer swaps the pointer with one atomic exchange, bumps the generation, then waits until
/// every reader is either outside a read section or inside one that began after the bump,
/// and only then releases the old snapshot. Why that is safe: a reader that loaded the old
/// pointer stored its slot before the exchange (both are sequentially consistent), so it
/// stored a generation older than the new one and the writer sees it and waits.
public final class SnapshotCell<Snapshot: AnyObject & Sendable>: Sendable {
    /// `Unmanaged<Snapshot>` bits; the cell holds one retain on the current snapshot.
    private let current: Atomic<UInt>
    /// Starts at 1 and grows with every publish; a reader slot of 0 means "not reading".
    fileprivate let generation = Atomic<UInt64>(1)
    private let readers = Mutex<[SnapshotReader<Snapshot>]>([])
    /// A strong reference for slow-path readers (CLI, stats), replaced under the lock.
    private let latest: Mutex<Snapshot>
    /// Serializes publishers; readers never touch it.
    private let publishLock = Mutex<UInt64>(0)

    public init(_ initial: Snapshot) {
        current = Atomic(UInt(bitPattern: Unmanaged.passRetained(initial).toOpaque()))
        latest = Mutex(initial)
    }

    deinit {
        Unmanaged<Snapshot>.fromOpaque(pointer(current.load(ordering: .acquiring))).release()
    }

    /// Registers a reader; each worker makes one and keeps it.
    public func makeReader() -> SnapshotReader<Snapshot> {
        let reader = SnapshotReader(cell: self)
        readers.withLock { $0.append(reader) }
        return reader
    }

    /// Unregisters a reader that will not read again.
    public func removeReader(_ reader: SnapshotReader<Snapshot>) {
        readers.withLock { list in list.removeAll { $0 === reader } }
    }

    /// The current snapshot, for readers off the hot path. Takes a lock and a reference.
    public var snapshot: Snapshot { latest.withLock { $0 } }

    /// Number of publishes so far.
    public var version: UInt64 { publishLock.withLock { $0 } }

    /// Makes `new` the snapshot every later read section sees, then waits until no reader can
    /// still be using the previous one and releases it. Never blocks readers. Returns how
    /// long the grace period took, in nanoseconds.
    @discardableResult
    public func publish(_ new: Snapshot) -> UInt64 {
        publishLock.withLock { count in
            count += 1
            latest.withLock { $0 = new }
            let fresh = UInt(bitPattern: Unmanaged.passRetained(new).toOpaque())
            let old = current.exchange(fresh, ordering: .sequentiallyConsistent)
            let newGeneration = generation.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
            let start = monotonicNanoseconds()
            let waiting = readers.withLock { $0 }
            for reader in waiting {
                var spins = 0
                while true {
                    let state = reader.state.load(ordering: .sequentiallyConsistent)
                    if state == 0 || state >= newGeneration { break }
                    spins += 1
                    if spins > 64 { CurrentProcess.yieldThread() }
                }
            }
            Unmanaged<Snapshot>.fromOpaque(pointer(old)).release()
            return monotonicNanoseconds() &- start
        }
    }

    @inline(__always)
    fileprivate func loadCurrent() -> UInt {
        current.load(ordering: .sequentiallyConsistent)
    }
}

/// One reader's slot. Use from one thread at a time.
public final class SnapshotReader<Snapshot: AnyObject & Sendable>: Sendable {
    fileprivate let state = Atomic<UInt64>(0)
    private let cell: SnapshotCell<Snapshot>

    fileprivate init(cell: SnapshotCell<Snapshot>) {
        self.cell = cell
    }

    /// Runs `body` with the current snapshot. The snapshot must not escape `body`. Cost: one
    /// acquiring load, one sequentially consistent store and load, one release store; no
    /// reference counting, no lock, no allocation.
    @inline(__always)
    public func read<Result>(_ body: (Snapshot) throws -> Result) rethrows -> Result {
        // Acquiring: a reader that sees a new generation also sees the pointer stored before it.
        state.store(cell.generation.load(ordering: .acquiring), ordering: .sequentiallyConsistent)
        defer { state.store(0, ordering: .releasing) }
        let unmanaged = Unmanaged<Snapshot>.fromOpaque(pointer(cell.loadCurrent()))
        return try unmanaged._withUnsafeGuaranteedRef(body)
    }
}

@inline(__always)
private func pointer(_ bits: UInt) -> UnsafeRawPointer {
    UnsafeRawPointer(bitPattern: bits)!
}

/// CLOCK_MONOTONIC in nanoseconds (the standard library's `SuspendingClock` on Linux).
func monotonicNanoseconds() -> UInt64 {
    let clock = SuspendingClock()
    let (seconds, attoseconds) = clock.systemEpoch.duration(to: clock.now).components
    return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
}
