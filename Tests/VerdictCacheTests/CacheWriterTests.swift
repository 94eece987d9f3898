import KernelSets
import Synchronization
import Testing

@testable import VerdictCache

@Suite struct CacheWriterTests {
    /// A sink that records the requests and answers each with `code(request)`.
    final class Recorder: Sendable {
        let sent = Mutex<[[SetRequest]]>([])
        let code: @Sendable (SetRequest) -> Int32

        init(code: @escaping @Sendable (SetRequest) -> Int32 = { _ in 0 }) { self.code = code }

        var sink: CacheWriter.Sink {
            { requests in
                self.sent.withLock { $0.append(requests) }
                var outcome = SetOutcome()
                outcome.codes = requests.map(self.code)
                outcome.done = outcome.codes.filter { $0 == 0 }.count
                outcome.full = outcome.codes.filter { $0 == IpsetClient.hashFullCode }.count
                return outcome
            }
        }
    }

    static func candidate(_ low: UInt64, accept: Bool = false, generation: UInt64, ipv6: Bool = false)
        -> CacheWriter.Candidate
    {
        CacheWriter.Candidate(
            high: ipv6 ? 0x2001_0db8_0000_0000 : 0,
            low: low,
            isIPv6: ipv6,
            accept: accept,
            generation: generation
        )
    }

    @Test func onePerBatchWithTheRightSetsAndTimeouts() {
        let recorder = Recorder()
        let writer = CacheWriter(
            targets: .init(dropTimeout: 60, acceptTimeout: 30),
            sink: recorder.sink,
            log: { _ in }
        )
        writer.hand([Self.candidate(7, generation: 1), Self.candidate(7, generation: 1)])
        writer.hand([Self.candidate(8, accept: true, generation: 1), Self.candidate(1, generation: 1, ipv6: true)])
        writer.drain()
        let sent = recorder.sent.withLock { $0 }
        #expect(sent.count == 1)
        #expect(
            sent.first == [
                .init(set: "exitblock-drop4", address: .v4(7), timeout: 60),
                .init(set: "exitblock-accept4", address: .v4(8), timeout: 30),
                .init(set: "exitblock-drop6", address: .v6(high: 0x2001_0db8_0000_0000, low: 1), timeout: 60),
            ]
        )
        #expect(writer.figures.dropAdds == 2 && writer.figures.acceptAdds == 1)
    }

    @Test func addressesJudgedWithRetiredSetsAreThrownAway() {
        let recorder = Recorder()
        let writer = CacheWriter(targets: .init(dropTimeout: 60, acceptTimeout: 60), sink: recorder.sink, log: { _ in })
        writer.hand([Self.candidate(1, generation: 3), Self.candidate(2, accept: true, generation: 4)])
        // A publish of generation 4 is through its grace period: nothing judged with 3 may land.
        writer.retire(below: 4)
        writer.hand([Self.candidate(3, generation: 3), Self.candidate(4, generation: 5)])
        writer.drain()
        let sent = recorder.sent.withLock { $0 }.flatMap { $0 }
        #expect(sent.map(\.address) == [.v4(2), .v4(4)])
        #expect(writer.figures.stale == 2)
        // Retiring never goes back.
        writer.retire(below: 2)
        writer.hand([Self.candidate(5, generation: 3)])
        writer.drain()
        #expect(writer.figures.stale == 3)
    }

    @Test func aFullAcceptSetIsCountedAndNothingElseIsLost() {
        let recorder = Recorder { $0.set.hasPrefix("exitblock-accept") ? IpsetClient.hashFullCode : 0 }
        let writer = CacheWriter(targets: .init(dropTimeout: 60, acceptTimeout: 60), sink: recorder.sink, log: { _ in })
        writer.hand([Self.candidate(1, accept: true, generation: 0), Self.candidate(2, generation: 0)])
        writer.drain()
        #expect(writer.figures.acceptFull == 1 && writer.figures.acceptAdds == 0 && writer.figures.dropAdds == 1)
        #expect(writer.figures.errors == 0)
    }

    @Test func recentAddsForgetAfterTheHoldTimeOrANewGeneration() {
        var recent = RecentCacheAdds()
        var answers: [Bool] = []
        let hold = RecentCacheAdds.holdNanoseconds
        for (accept, generation, now) in [
            (false, 1, 10), (false, 1, 20), (true, 1, 30), (true, 2, 40), (true, 2, 40 + hold),
        ] as [(Bool, UInt64, UInt64)] {
            answers.append(recent.seen(high: 0, low: 9, accept: accept, generation: generation, now: now))
        }
        #expect(answers == [false, true, false, false, false])
    }
}
