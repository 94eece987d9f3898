import LinuxSystem
import ExitSet
import ListSources
import Synchronization
import Testing

@testable import BGPFeed

/// A speaker that records what it was asked, and fails when told to.
final class RecordingSpeaker: RouteSpeaker, Sendable {
    let name = "test"
    let calls = Mutex<[(RouteDelta, [IPPrefix], Bool)]>([])
    let failing = Atomic<Bool>(false)

    func apply(_ delta: RouteDelta, routes: [IPPrefix], initial: Bool) throws(BGPFeedError) {
        if failing.load(ordering: .relaxed) { throw .write(target: "test", reason: "broken pipe") }
        calls.withLock { $0.append((delta, routes, initial)) }
    }

    var count: Int { calls.withLock { $0.count } }
    var last: (RouteDelta, [IPPrefix], Bool)? { calls.withLock { $0.last } }
}

private func set(_ texts: [String]) -> ExitSet { ExitSet(texts.map { IPPrefix($0)! }) }
private func routes(_ texts: [String]) -> [IPPrefix] { texts.map { IPPrefix($0)! } }

@Suite("RouteFeed")
struct RouteFeedTests {
    @Test func updatesAreIncremental() {
        let speaker = RecordingSpeaker()
        let feed = RouteFeed(
            planner: RoutePlanner(settings: RouteSettings(), maximumRoutes: 0),
            speaker: speaker,
            ledger: nil
        )
        #expect(feed.update(exits: set(["192.0.2.1", "2001:db8::1"]), allowlist: .empty) != .unchanged)
        #expect(speaker.last?.2 == true)
        let outcome = feed.update(exits: set(["192.0.2.1", "198.51.100.1"]), allowlist: .empty)
        #expect(outcome == .applied(RouteDelta(announce: routes(["198.51.100.1"]), withdraw: routes(["2001:db8::1"]))))
        #expect(feed.update(exits: set(["192.0.2.1", "198.51.100.1"]), allowlist: .empty) == .unchanged)
        #expect(speaker.count == 2)
        let figures = feed.figures
        #expect(figures.announced == 3 && figures.withdrawn == 1 && figures.syncs == 2)
        #expect(figures.ipv4Routes == 2 && figures.ipv6Routes == 0)
    }

    @Test func allowlistedAddressesAreNeverAnnounced() {
        let speaker = RecordingSpeaker()
        let feed = RouteFeed(
            planner: RoutePlanner(settings: RouteSettings(), maximumRoutes: 0),
            speaker: speaker,
            ledger: nil
        )
        feed.update(exits: set(["192.0.2.0/30"]), allowlist: set(["192.0.2.2"]))
        #expect(feed.routes == routes(["192.0.2.0/31", "192.0.2.3"]))
    }

    @Test func aSetOverTheCapIsRefusedAndTheRoutesStay() {
        let speaker = RecordingSpeaker()
        let feed = RouteFeed(
            planner: RoutePlanner(settings: RouteSettings(), maximumRoutes: 2),
            speaker: speaker,
            ledger: nil
        )
        feed.update(exits: set(["192.0.2.1", "192.0.2.3"]), allowlist: .empty)
        let outcome = feed.update(exits: set(["192.0.2.1", "192.0.2.3", "192.0.2.5"]), allowlist: .empty)
        guard case .refused(.tooManyRoutes(let count, 2)) = outcome else {
            Issue.record("expected a refusal, got \(outcome)")
            return
        }
        #expect(count.total == 3)
        #expect(feed.routes == routes(["192.0.2.1", "192.0.2.3"]))
        #expect(feed.figures.refused["max_routes"] == 1)
        #expect(speaker.count == 1)
    }

    @Test func anEmptySetNeverWithdrawsEverything() {
        let speaker = RecordingSpeaker()
        let feed = RouteFeed(
            planner: RoutePlanner(settings: RouteSettings(), maximumRoutes: 0),
            speaker: speaker,
            ledger: nil
        )
        feed.update(exits: set(["192.0.2.1"]), allowlist: .empty)
        #expect(feed.update(exits: .empty, allowlist: .empty) == .refused(.wouldWithdrawEverything(inForce: 1)))
        #expect(feed.routes == routes(["192.0.2.1"]))
    }

    @Test func aSpeakerFailureKeepsTheRoutesAndRetriesInFull() {
        let speaker = RecordingSpeaker()
        let feed = RouteFeed(
            planner: RoutePlanner(settings: RouteSettings(), maximumRoutes: 0),
            speaker: speaker,
            ledger: nil
        )
        speaker.failing.store(true, ordering: .relaxed)
        guard case .refused = feed.update(exits: set(["192.0.2.1"]), allowlist: .empty) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(feed.routes.isEmpty)
        speaker.failing.store(false, ordering: .relaxed)
        feed.update(exits: set(["192.0.2.1"]), allowlist: .empty)
        #expect(speaker.last?.2 == true)
        #expect(feed.routes == routes(["192.0.2.1"]))
    }

    @Test func aSetRefusedAtStartLeavesTheLastGoodRoutesAnnounced() throws {
        let directory = "/tmp/exitblock-bgp-test-\(UInt64.random(in: 0...UInt64.max))"
        try DurableFile.makeDirectory(directory)
        let ledger = RouteLedger(path: directory + "/routes")
        try ledger.write(routes(["192.0.2.1", "192.0.2.9"]))
        let speaker = RecordingSpeaker()
        let feed = RouteFeed(
            planner: RoutePlanner(settings: RouteSettings(), maximumRoutes: 2),
            speaker: speaker,
            ledger: ledger
        )
        let outcome = feed.update(exits: set(["192.0.2.1", "192.0.2.3", "192.0.2.5"]), allowlist: .empty)
        guard case .refused(.tooManyRoutes) = outcome else {
            Issue.record("expected a refusal, got \(outcome)")
            return
        }
        let (delta, all, initial) = try #require(speaker.last)
        #expect(initial && delta.isEmpty && all == routes(["192.0.2.1", "192.0.2.9"]))
        #expect(feed.routes == routes(["192.0.2.1", "192.0.2.9"]))
        #expect(feed.figures.refused["max_routes"] == 1 && feed.figures.announced == 2)
        // Later refusals do not touch the speaker.
        _ = feed.update(exits: set(["192.0.2.1", "192.0.2.3", "192.0.2.5"]), allowlist: .empty)
        #expect(speaker.count == 1)
    }

    @Test func aRestartWithdrawsOnlyWhatTheSetDropped() throws {
        let directory = "/tmp/exitblock-bgp-test-\(UInt64.random(in: 0...UInt64.max))"
        try DurableFile.makeDirectory(directory)
        let ledger = RouteLedger(path: directory + "/routes")
        try ledger.write(routes(["192.0.2.1", "192.0.2.9"]))
        let speaker = RecordingSpeaker()
        let feed = RouteFeed(
            planner: RoutePlanner(settings: RouteSettings(), maximumRoutes: 0),
            speaker: speaker,
            ledger: ledger
        )
        feed.update(exits: set(["192.0.2.1", "192.0.2.3"]), allowlist: .empty)
        let (delta, all, initial) = try #require(speaker.last)
        #expect(initial && all == routes(["192.0.2.1", "192.0.2.3"]))
        #expect(delta == RouteDelta(announce: routes(["192.0.2.3"]), withdraw: routes(["192.0.2.9"])))
        #expect(ledger.read() == routes(["192.0.2.1", "192.0.2.3"]))
    }
}
