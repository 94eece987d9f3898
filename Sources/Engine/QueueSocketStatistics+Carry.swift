import NetfilterQueue

extension QueueSocketStatistics {
    /// The figures of a socket a worker closed (after its binding was lost) and those of the
    /// one it uses now, together: the counters mirrored from them never go back.
    static func + (lhs: QueueSocketStatistics, rhs: QueueSocketStatistics) -> QueueSocketStatistics {
        var sum = lhs
        sum.enobufs &+= rhs.enobufs
        sum.truncatedDatagrams &+= rhs.truncatedDatagrams
        sum.malformedMessages &+= rhs.malformedMessages
        sum.verdictErrors &+= rhs.verdictErrors
        sum.sendErrors &+= rhs.sendErrors
        sum.verdictResends &+= rhs.verdictResends
        sum.singleVerdicts &+= rhs.singleVerdicts
        sum.deferredVerdicts &+= rhs.deferredVerdicts
        sum.overflow &+= rhs.overflow
        if rhs.lastVerdictErrno != 0 { sum.lastVerdictErrno = rhs.lastVerdictErrno }
        return sum
    }
}
