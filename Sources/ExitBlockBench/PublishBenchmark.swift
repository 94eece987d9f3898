import Engine
import ExitSet
import Dispatch
import Synchronization
import LinuxSystem

/// The longest pause a worker sees while sets are published: reader threads loop
/// `reader.read { 64 lookups }` timing each read section, while the main thread publishes.
/// Phases: quiet (no publish), tight (publish two prebuilt sets back to back, as fast as the
/// cell allows), rebuild (build a fresh set, publish it, the old one is freed: the real
/// refresh path, with sets of 100,000 prefixes).
struct PublishBenchmark {
    var readers: Int
    var seconds: Double
    var dataDirectory: String

    enum Phase: Int, CaseIterable {
        case quiet, tight, rebuild, stop

        var title: String {
            switch self {
            case .quiet: return "no publish"
            case .tight: return "back-to-back publishes"
            case .rebuild: return "build + publish + free"
            case .stop: return ""
            }
        }
    }

    /// Shared between the main thread and the readers.
    final class Control: Sendable {
        let phase = Atomic<Int>(Phase.quiet.rawValue)
        let running = Atomic<Int>(0)
        /// Involuntary context switches of the readers, per phase (summed).
        let preemptions = Mutex<[Int]>(Array(repeating: 0, count: Phase.allCases.count))
    }

    func run(_ report: Report, checksum: inout UInt64) throws(BenchError) {
        report.section(
            "publish: longest read section seen by \(readers) reader thread(s) (64 lookups each) while publishing"
        )
        report.note("max = over windows of 256 sections in which the reader was not switched out (the pause the")
        report.note("publication causes); the maximum with scheduler pauses (other processes) is in the detail")
        let secops = try BenchData.entries("\(dataDirectory)/\(BenchData.secopsList)")
        let big = BenchData.syntheticIPv4Prefixes(count: 100_000, seed: 11)
        let probes = BenchData.ipv4Probes(for: secops, count: 1 << 16, listedShare: 0.1, seed: 5)
        let setA = ExitSet(secops)
        let setB = ExitSet(secops.dropLast())
        let cell = SnapshotCell(setA)
        let control = Control()
        let done = DispatchSemaphore(value: 0)
        let histograms = (0..<readers).map { _ in SectionHistogram(phases: Phase.allCases.count - 1) }
        let hits = Mutex<UInt64>(0)

        for index in 0..<readers {
            let reader = cell.makeReader()
            let histogram = histograms[index]
            control.running.add(1, ordering: .relaxed)
            SystemThread.start(name: "bench-reader-\(index)") {
                let found = readLoop(reader, probes, histogram, control)
                hits.withLock { $0 &+= found }
                done.signal()
            }
        }

        // quiet
        SystemThread.sleep(seconds: seconds / 2)
        // tight: alternate two prebuilt sets
        control.phase.store(Phase.tight.rawValue, ordering: .relaxed)
        var tightGrace: [Double] = []
        var start = BenchClock.now()
        var flip = false
        while Double(BenchClock.now() - start) < seconds * 1e9 {
            tightGrace.append(Double(cell.publish(flip ? setA : setB)))
            flip.toggle()
        }
        let tightElapsed = Double(BenchClock.now() - start) / 1e9
        // rebuild: fresh sets of 100,000 prefixes (and the secops list), the old ones freed
        control.phase.store(Phase.rebuild.rawValue, ordering: .relaxed)
        var rebuildGrace: [Double] = []
        var rebuildTotal: [Double] = []
        start = BenchClock.now()
        var round = 0
        while Double(BenchClock.now() - start) < seconds * 1e9 || round < 4 {
            let entries = round % 2 == 0 ? big : secops
            let built = BenchClock.now()
            let fresh = ExitSet(entries)
            rebuildGrace.append(Double(cell.publish(fresh)))
            rebuildTotal.append(Double(BenchClock.now() - built))
            round += 1
        }
        control.phase.store(Phase.stop.rawValue, ordering: .relaxed)
        for _ in 0..<readers { done.wait() }
        checksum &+= hits.withLock { $0 }

        let merged = SectionHistogram(phases: Phase.allCases.count - 1)
        for histogram in histograms { merged.merge(histogram) }
        let preemptions = control.preemptions.withLock { $0 }

        for phase in [Phase.tight, .rebuild, .quiet] {
            let index = phase.rawValue
            let maximum = Double(merged.unswitchedMaxima[index]) / 1000
            let rawMaximum = Double(merged.maxima[index]) / 1000
            let p99 = merged.quantile(0.99, phase: index).map { Report.format(Double($0) / 1000) + " us" } ?? "> 100 us"
            let p50 = merged.quantile(0.5, phase: index).map { "\(Report.format(Double($0))) ns" } ?? "> 100 us"
            let publishes: String
            switch phase {
            case .tight:
                publishes = "\(Report.grouped(tightGrace.count)) publishes in \(Report.format(tightElapsed)) s"
            case .rebuild: publishes = "\(rebuildGrace.count) sets built and published"
            default: publishes = "no publish"
            }
            let goal: (String, Bool)? = phase == .quiet ? nil : ("< 1 ms", maximum < 1000)
            report.add(
                Figure(
                    name: "read section max, \(phase.title)",
                    value: maximum,
                    unit: "us",
                    goal: goal,
                    detail: "p50 \(p50), p99 \(p99), \(Report.grouped(Int(merged.totals[index]))) sections, "
                        + "\(merged.longSections(phase: index)) >= 100 us; with scheduler pauses: max "
                        + "\(Report.format(rawMaximum)) us, reader preempted \(preemptions[index]) times, "
                        + "\(merged.switchedWindows[index]) windows of 256 sections set aside; \(publishes)"
                )
            )
        }
        report.add(
            Figure(
                name: "grace period (writer waits for readers), back-to-back",
                value: median(tightGrace) / 1000,
                unit: "us median",
                goal: nil,
                detail: "max \(Report.format((tightGrace.max() ?? 0) / 1000)) us"
            )
        )
        report.add(
            Figure(
                name: "grace period, build + publish + free",
                value: median(rebuildGrace) / 1000,
                unit: "us median",
                goal: nil,
                detail: "max \(Report.format((rebuildGrace.max() ?? 0) / 1000)) us; build + publish "
                    + "\(Report.format(median(rebuildTotal) / 1e6)) ms median"
            )
        )
    }
}

/// One reader: time every read section until told to stop. No allocation in the loop.
/// Every `windowSections` sections (and at a phase change) it asks the kernel how often the
/// thread has been switched out; a window without a switch gives the "unswitched" maximum,
/// the pause the publication protocol itself causes, apart from the scheduler.
private func readLoop(
    _ reader: SnapshotReader<ExitSet>,
    _ probes: [UInt32],
    _ histogram: SectionHistogram,
    _ control: PublishBenchmark.Control
) -> UInt64 {
    let windowSections = 256
    var hits: UInt64 = 0
    var offset = 0
    let mask = probes.count - 1
    var lastPhase = control.phase.load(ordering: .relaxed)
    var switches = contextSwitches()
    var phaseStartSwitches = switches
    var windowMaximum: UInt64 = 0
    var windowCount = 0
    probes.withUnsafeBufferPointer { probes in
        while true {
            let phase = control.phase.load(ordering: .relaxed)
            if phase != lastPhase || windowCount == windowSections {
                let now = contextSwitches()
                histogram.closeWindow(phase: lastPhase, maximum: windowMaximum, switched: now.total != switches.total)
                switches = now
                windowMaximum = 0
                windowCount = 0
                if phase != lastPhase {
                    let previous = lastPhase
                    let preempted = now.involuntary - phaseStartSwitches.involuntary
                    control.preemptions.withLock { $0[previous] += preempted }
                    phaseStartSwitches = now
                    lastPhase = phase
                }
            }
            if phase == PublishBenchmark.Phase.stop.rawValue { break }
            let start = BenchClock.now()
            let found = reader.read { set in
                var count: UInt64 = 0
                for index in 0..<64 {
                    count &+= set.contains(ipv4: probes[(offset &+ index) & mask]) ? 1 : 0
                }
                return count
            }
            let elapsed = BenchClock.now() &- start
            hits &+= found
            offset = (offset &+ 64) & mask
            histogram.record(phase: phase, nanoseconds: elapsed)
            windowMaximum = max(windowMaximum, elapsed)
            windowCount += 1
        }
    }
    return hits
}

/// The calling thread's context switches so far: involuntary (preempted) and in total.
private func contextSwitches() -> (involuntary: Int, total: Int) {
    let switches = CurrentProcess.threadContextSwitches()
    return (switches.involuntary, switches.involuntary + switches.voluntary)
}
