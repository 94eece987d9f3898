/// Durations of read sections, per phase, in 10 ns buckets up to 100 µs (longer ones go to
/// the last bucket; the maximum is kept exactly). Written by one reader thread only, read by
/// the main thread after that reader has finished (hence `@unchecked Sendable`).
final class SectionHistogram: @unchecked Sendable {
    static let bucketNanoseconds: UInt64 = 10
    static let bucketCount = 10_001
    let phases: Int
    private let counts: UnsafeMutablePointer<UInt64>
    private(set) var maxima: [UInt64]
    private(set) var totals: [UInt64]
    /// The longest section among windows in which the thread was never switched out.
    private(set) var unswitchedMaxima: [UInt64]
    /// Windows (of `windowSections` sections) during which the thread was switched out.
    private(set) var switchedWindows: [UInt64]

    init(phases: Int) {
        self.phases = phases
        counts = .allocate(capacity: phases * Self.bucketCount)
        counts.initialize(repeating: 0, count: phases * Self.bucketCount)
        maxima = Array(repeating: 0, count: phases)
        totals = Array(repeating: 0, count: phases)
        unswitchedMaxima = Array(repeating: 0, count: phases)
        switchedWindows = Array(repeating: 0, count: phases)
    }

    /// Closes a window of sections whose longest took `maximum` ns; `switched` tells whether
    /// the thread was switched out (preempted or blocked) during it.
    func closeWindow(phase: Int, maximum: UInt64, switched: Bool) {
        if switched {
            switchedWindows[phase] &+= 1
        } else if maximum > unswitchedMaxima[phase] {
            unswitchedMaxima[phase] = maximum
        }
    }

    deinit {
        counts.deallocate()
    }

    /// Counts one section. No allocation.
    @inline(__always)
    func record(phase: Int, nanoseconds: UInt64) {
        let bucket = min(Int(nanoseconds / Self.bucketNanoseconds), Self.bucketCount - 1)
        counts[phase * Self.bucketCount + bucket] &+= 1
        totals[phase] &+= 1
        if nanoseconds > maxima[phase] { maxima[phase] = nanoseconds }
    }

    /// Adds another reader's histogram into this one.
    func merge(_ other: SectionHistogram) {
        for index in 0..<(phases * Self.bucketCount) { counts[index] &+= other.counts[index] }
        for phase in 0..<phases {
            maxima[phase] = max(maxima[phase], other.maxima[phase])
            totals[phase] &+= other.totals[phase]
            unswitchedMaxima[phase] = max(unswitchedMaxima[phase], other.unswitchedMaxima[phase])
            switchedWindows[phase] &+= other.switchedWindows[phase]
        }
    }

    /// The upper edge (ns) of the bucket holding the `fraction` quantile of `phase`;
    /// `nil` when that quantile lies beyond 100 µs.
    func quantile(_ fraction: Double, phase: Int) -> UInt64? {
        let target = UInt64((Double(totals[phase]) * fraction).rounded(.up))
        var seen: UInt64 = 0
        for bucket in 0..<Self.bucketCount {
            seen &+= counts[phase * Self.bucketCount + bucket]
            if seen >= max(target, 1) {
                return bucket == Self.bucketCount - 1 ? nil : UInt64(bucket + 1) * Self.bucketNanoseconds
            }
        }
        return nil
    }

    /// Sections of `phase` that took 100 µs or more.
    func longSections(phase: Int) -> UInt64 {
        counts[phase * Self.bucketCount + Self.bucketCount - 1]
    }
}
