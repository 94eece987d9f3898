import Foundation
import Synchronization
import Testing

@testable import Engine

/// Where probes write that they were released.
final class ReleaseLog: Sendable {
    let values = Mutex<[Int]>([])
}

/// A snapshot that knows whether it was released too early.
final class Probe: Sendable {
    let value: Int
    let alive = Atomic<Bool>(true)
    let log: ReleaseLog?

    init(_ value: Int, log: ReleaseLog? = nil) {
        self.value = value
        self.log = log
    }

    deinit {
        alive.store(false, ordering: .sequentiallyConsistent)
        log?.values.withLock { $0.append(value) }
    }
}

@Suite struct SnapshotCellTests {
    @Test func readersSeeThePublishedSnapshot() {
        let cell = SnapshotCell(Probe(1))
        let reader = cell.makeReader()
        #expect(reader.read { $0.value } == 1)
        cell.publish(Probe(2))
        #expect(reader.read { $0.value } == 2)
        #expect(cell.snapshot.value == 2)
        #expect(cell.version == 1)
    }

    @Test func theOldSnapshotIsReleasedAfterPublish() {
        let log = ReleaseLog()
        let cell = SnapshotCell(Probe(1, log: log))
        _ = cell.makeReader()
        cell.publish(Probe(2, log: log))
        #expect(log.values.withLock { $0 } == [1])
    }

    /// Workers read while a writer publishes thousands of times: every read sees a live
    /// snapshot whose value is one that was published, and values never go backwards.
    @Test func stressPublishWhileReading() {
        let cell = SnapshotCell(Probe(0))
        let stop = Atomic<Bool>(false)
        let failures = Atomic<Int>(0)
        let reads = Atomic<Int>(0)
        // Each reader says when it has read once, and the writer starts only then: under a
        // loaded test run the threads may start late, and a stress test without readers
        // would test nothing.
        let started = Atomic<Int>(0)
        let group = DispatchGroup()
        for _ in 0..<3 {
            let reader = cell.makeReader()
            group.enter()
            Thread {
                var last = 0
                var count = 0
                while !stop.load(ordering: .relaxed) {
                    reader.read { probe in
                        if !probe.alive.load(ordering: .sequentiallyConsistent) || probe.value < last {
                            failures.add(1, ordering: .relaxed)
                        }
                        last = probe.value
                    }
                    count += 1
                    if count == 1 { started.add(1, ordering: .sequentiallyConsistent) }
                }
                reads.add(count, ordering: .relaxed)
                group.leave()
            }.start()
        }
        while started.load(ordering: .sequentiallyConsistent) < 3 { Thread.sleep(forTimeInterval: 0.001) }
        for value in 1...5000 { cell.publish(Probe(value)) }
        stop.store(true, ordering: .relaxed)
        group.wait()
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(reads.load(ordering: .relaxed) > 0)
        #expect(cell.snapshot.value == 5000)
    }
}
