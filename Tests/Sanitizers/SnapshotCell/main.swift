// The snapshot publication stress test as a plain executable, built by scripts/sanitize.sh
// with swiftc over SnapshotCell.swift only, under ThreadSanitizer and AddressSanitizer (a
// read of a freed snapshot is a heap-use-after-free that only ASan reports). Exits 1 on a
// failed check; the sanitizers abort on a report.
import Foundation
import Synchronization

/// A snapshot that knows whether it was released too early; its payload is on the heap so
/// that a read after free touches freed memory.
final class Probe: Sendable {
    let value: Int
    let payload: [Int]
    let alive = Atomic<Bool>(true)

    init(_ value: Int) {
        self.value = value
        payload = [Int](repeating: value, count: 16)
    }

    deinit { alive.store(false, ordering: .sequentiallyConsistent) }
}

var failed = false
func check(_ condition: Bool, _ what: String) {
    if !condition {
        print("FAIL: \(what)")
        failed = true
    }
}

/// Readers see what was published, and the old snapshot is released after a publish.
func publishAndRelease() {
    let cell = SnapshotCell(Probe(1))
    let reader = cell.makeReader()
    check(reader.read { $0.value } == 1, "first read")
    cell.publish(Probe(2))
    check(reader.read { $0.value } == 2, "read after publish")
    check(cell.snapshot.value == 2 && cell.version == 1, "snapshot and version")
}

/// Readers on threads read (and walk the payload) while the writer publishes `publishes`
/// times: every read sees a live snapshot, values never go backwards.
func stress(readers: Int, publishes: Int) {
    let cell = SnapshotCell(Probe(0))
    let stop = Atomic<Bool>(false)
    let failures = Atomic<Int>(0)
    let reads = Atomic<Int>(0)
    let started = Atomic<Int>(0)
    let group = DispatchGroup()
    for _ in 0..<readers {
        let reader = cell.makeReader()
        group.enter()
        Thread {
            var last = 0
            var count = 0
            started.add(1, ordering: .sequentiallyConsistent)
            while !stop.load(ordering: .relaxed) {
                reader.read { probe in
                    let sum = probe.payload.reduce(0, +)
                    if !probe.alive.load(ordering: .sequentiallyConsistent) || probe.value < last
                        || sum != probe.value * 16
                    {
                        failures.add(1, ordering: .relaxed)
                    }
                    last = probe.value
                }
                count += 1
            }
            reads.add(count, ordering: .relaxed)
            group.leave()
        }.start()
    }
    // Publish only once every reader runs, so the readers overlap the publishes.
    while started.load(ordering: .sequentiallyConsistent) < readers { usleep(100) }
    for value in 1...publishes { cell.publish(Probe(value)) }
    stop.store(true, ordering: .relaxed)
    group.wait()
    check(failures.load(ordering: .relaxed) == 0, "\(failures.load(ordering: .relaxed)) bad reads")
    check(reads.load(ordering: .relaxed) > 0, "no reads")
    check(cell.snapshot.value == publishes, "last value")
    print("snapshot stress: \(readers) readers, \(publishes) publishes, \(reads.load(ordering: .relaxed)) reads")
}

let publishes = Int(ProcessInfo.processInfo.environment["SNAPSHOT_PUBLISHES"] ?? "") ?? 5000
publishAndRelease()
stress(readers: 3, publishes: publishes)
exit(failed ? 1 : 0)
