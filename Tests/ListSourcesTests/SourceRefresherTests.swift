import ExitSet
import Foundation
import ListSources
import Logging
import Stats
import Synchronization
import Testing

/// A list server in memory: answers each fetch with the next scripted answer (the last one
/// repeats) and records the validators each request carried.
final class ScriptedFetcher: ListFetching {
    enum Answer: Sendable {
        /// A 200 with this body and ETag; a request carrying the same ETag gets a 304.
        case list(String, etag: String)
        case fail(SourceError)
    }

    private let state = Mutex<(answers: [Answer], requests: [ConditionalRequest])>(([], []))

    init(_ answers: [Answer] = []) {
        state.withLock { $0.answers = answers }
    }

    func serve(_ answers: Answer...) {
        state.withLock { $0.answers = answers }
    }

    var requests: [ConditionalRequest] { state.withLock { $0.requests } }

    func fetch(_ url: String, conditional: ConditionalRequest) async throws(SourceError) -> FetchOutcome {
        let answer = state.withLock { state -> Answer in
            state.requests.append(conditional)
            return state.answers.count > 1 ? state.answers.removeFirst() : state.answers[0]
        }
        switch answer {
        case .list(let body, let etag):
            if conditional.etag == etag { return .notModified(ConditionalRequest()) }
            return .content(Array(body.utf8), ConditionalRequest(etag: etag))
        case .fail(let error):
            throw error
        }
    }

    func shutdown() async {}
}

/// Collects what the refresher publishes.
final class PublishedSets: Sendable {
    private let sets = Mutex<[ExitSet]>([])
    var all: [ExitSet] { sets.withLock { $0 } }
    var publish: @Sendable (ExitSet) -> UInt64 {
        { set in
            self.sets.withLock { $0.append(set) }; return 0
        }
    }
}

@Suite struct SourceRefresherTests {
    static let url = "http://lists.test/exits"
    static let logger = Logger(label: "test")

    static func list(_ count: Int, from start: Int = 0) -> String {
        (start..<start + count).map { "198.51.\($0 / 256).\($0 % 256)\n" }.joined()
    }

    static func configuration(_ sources: [String], state: String?) -> RefreshConfiguration {
        var configuration = RefreshConfiguration(sources: sources.map(ListSource.init))
        configuration.stateDirectory = state
        return configuration
    }

    static func contains(_ set: ExitSet, _ text: String) -> Bool {
        set.contains(IPAddress(text)!)
    }

    @Test func notModifiedCostsNoRebuildAndSendsTheETag() async throws {
        let fetcher = ScriptedFetcher([.list(Self.list(10), etag: "\"v1\"")])
        let recorder = StatsRecorder()
        let refresher = SourceRefresher(
            configuration: Self.configuration([Self.url], state: nil),
            recorder: recorder,
            logger: Self.logger,
            version: "test",
            fetcher: fetcher
        )
        let initial = try await refresher.loadInitial()
        #expect(initial.count == 10)
        let published = PublishedSets()
        #expect(await refresher.refreshAll(publish: published.publish) == false)
        #expect(published.all.isEmpty)
        #expect(recorder.rebuilds == 0)
        #expect(fetcher.requests.map(\.etag) == [nil, "\"v1\""])
        let source = try #require(recorder.sources.first)
        #expect(source.results == ["ok": 1, "not_modified": 1])
        #expect(source.lastResult == "not_modified")
        #expect(source.loaded && !source.fromCache)
    }

    @Test func aChangePublishesTheNewSet() async throws {
        let fetcher = ScriptedFetcher([.list(Self.list(10), etag: "\"v1\"")])
        let recorder = StatsRecorder()
        let refresher = SourceRefresher(
            configuration: Self.configuration([Self.url], state: nil),
            recorder: recorder,
            logger: Self.logger,
            version: "test",
            fetcher: fetcher
        )
        _ = try await refresher.loadInitial()
        fetcher.serve(.list(Self.list(12), etag: "\"v2\""))
        let published = PublishedSets()
        #expect(await refresher.refreshAll(publish: published.publish))
        #expect(published.all.map(\.count) == [12])
        #expect(Self.contains(published.all[0], "198.51.0.11"))
        #expect(recorder.rebuilds == 1)
    }

    static func consensus(_ summary: String) -> String {
        """
        network-status-version 3
        r exit AAoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 198.51.100.7 9001 0
        s Exit Running Valid
        p \(summary)
        directory-footer

        """
    }

    @Test func aPolicyChangeAlonePublishesTheNewSet() async throws {
        let fetcher = ScriptedFetcher([.list(Self.consensus("accept 80,443"), etag: "\"v1\"")])
        let refresher = SourceRefresher(
            configuration: Self.configuration([Self.url], state: nil),
            recorder: StatsRecorder(),
            logger: Self.logger,
            version: "test",
            fetcher: fetcher
        )
        let initial = try await refresher.loadInitial()
        let exit = IPAddress("198.51.100.7")!
        #expect(initial.match(exit, port: 25) == .outsidePolicy)
        fetcher.serve(.list(Self.consensus("accept 25,80,443"), etag: "\"v2\""))
        let published = PublishedSets()
        #expect(await refresher.refreshAll(publish: published.publish))
        #expect(published.all.count == 1)
        #expect(published.all.first?.match(exit, port: 25) == .listed)
    }

    @Test func refusedVersionsKeepThePreviousOneAndItsValidators() async throws {
        let fetcher = ScriptedFetcher([.list(Self.list(100), etag: "\"v1\"")])
        let recorder = StatsRecorder()
        let refresher = SourceRefresher(
            configuration: Self.configuration([Self.url], state: nil),
            recorder: recorder,
            logger: Self.logger,
            version: "test",
            fetcher: fetcher
        )
        #expect(try await refresher.loadInitial().count == 100)
        let published = PublishedSets()
        let refusals: [(ScriptedFetcher.Answer, String)] = [
            (.list(Self.list(10), etag: "\"shrunk\""), "shrank"),
            (.list("", etag: "\"empty\""), "empty"),
            (.list("not an address\n", etag: "\"junk\""), "no_valid_entry"),
            (.list(Self.list(100) + "0.0.0.0/0\n", etag: "\"all\""), "zero_prefix"),
            (.list(Self.list(100) + "10.0.0.0/8\n", etag: "\"broad\""), "prefix_too_broad"),
            (.fail(.httpStatus(500)), "http_status"),
            (.fail(.timeout("deadline")), "timeout"),
            (.fail(.truncated(expected: 100, received: 10)), "truncated"),
        ]
        for (answer, reason) in refusals {
            fetcher.serve(answer)
            #expect(await refresher.refreshAll(publish: published.publish) == false, "\(reason)")
            #expect(recorder.refusals[reason] == 1, "\(reason)")
            #expect(recorder.sources[0].lastReason == reason)
        }
        #expect(published.all.isEmpty)
        // Every request still carried the validators of the version in force.
        #expect(fetcher.requests.dropFirst().allSatisfy { $0.etag == "\"v1\"" })
        let source = recorder.sources[0]
        #expect(source.ipv4Entries == 100)
        #expect(source.results["refused"] == 5 && source.results["error"] == 3)
        // The server goes back to the version in force: a 304, no rebuild.
        fetcher.serve(.list(Self.list(100), etag: "\"v1\""))
        #expect(await refresher.refreshAll(publish: published.publish) == false)
        #expect(recorder.sources[0].lastResult == "not_modified")
    }

    @Test func oneRefusedSourceKeepsItsVersionWhileAnotherUpdates() async throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/local.list"
        try "203.0.113.1\n".write(toFile: file, atomically: true, encoding: .utf8)
        let fetcher = ScriptedFetcher([.list(Self.list(10), etag: "\"v1\"")])
        let recorder = StatsRecorder()
        let refresher = SourceRefresher(
            configuration: Self.configuration([Self.url, file], state: nil),
            recorder: recorder,
            logger: Self.logger,
            version: "test",
            fetcher: fetcher
        )
        #expect(try await refresher.loadInitial().count == 11)
        fetcher.serve(.fail(.httpStatus(503)))
        try "203.0.113.1\n203.0.113.2\n".write(toFile: file, atomically: true, encoding: .utf8)
        let published = PublishedSets()
        #expect(await refresher.refreshAll(publish: published.publish))
        let set = try #require(published.all.last)
        #expect(set.count == 12)
        #expect(Self.contains(set, "198.51.0.3") && Self.contains(set, "203.0.113.2"))
        #expect(recorder.sources.map(\.lastResult) == ["error", "ok"])
    }

    @Test func restartWithTheServerDownStartsFromTheDiskCache() async throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = SourceRefresher(
            configuration: Self.configuration([Self.url], state: directory),
            recorder: StatsRecorder(),
            logger: Self.logger,
            version: "test",
            fetcher: ScriptedFetcher([.list(Self.list(7), etag: "\"v7\"")])
        )
        #expect(try await first.loadInitial().count == 7)

        let down = ScriptedFetcher([.fail(.connection("refused"))])
        let recorder = StatsRecorder()
        let second = SourceRefresher(
            configuration: Self.configuration([Self.url], state: directory),
            recorder: recorder,
            logger: Self.logger,
            version: "test",
            fetcher: down
        )
        let set = try await second.loadInitial()
        #expect(set.count == 7)
        #expect(down.requests.isEmpty)  // the cache is used at once; the fetch comes with the loop
        let source = try #require(recorder.sources.first)
        #expect(source.fromCache && source.loaded && source.lastSuccess > 0)
        // The first fetch after the start is conditional on the cached ETag, and fails: the cache stays in force.
        let published = PublishedSets()
        #expect(await second.refreshAll(publish: published.publish) == false)
        #expect(down.requests.map(\.etag) == ["\"v7\""])
        #expect(recorder.sources[0].fromCache && recorder.sources[0].ipv4Entries == 7)
    }

    @Test func aURLSourceWithNothingStartsEmptyAndUnhealthy() async throws {
        let recorder = StatsRecorder()
        let refresher = SourceRefresher(
            configuration: Self.configuration([Self.url], state: nil),
            recorder: recorder,
            logger: Self.logger,
            version: "test",
            fetcher: ScriptedFetcher([.fail(.connection("refused"))])
        )
        #expect(try await refresher.loadInitial().count == 0)
        let source = try #require(recorder.sources.first)
        #expect(!source.loaded)
        #expect(source.results == ["error": 1])
    }

    @Test func aBrokenFileWithoutCacheFailsTheStartButACacheSavesIt() async throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/exits.list"
        try "garbage\n".write(toFile: file, atomically: true, encoding: .utf8)
        let broken = SourceRefresher(
            configuration: Self.configuration([file], state: directory + "/state"),
            recorder: StatsRecorder(),
            logger: Self.logger,
            version: "test"
        )
        await #expect(throws: SourceStartError.self) { try await broken.loadInitial() }

        try "192.0.2.9\n".write(toFile: file, atomically: true, encoding: .utf8)
        let good = SourceRefresher(
            configuration: Self.configuration([file], state: directory + "/state"),
            recorder: StatsRecorder(),
            logger: Self.logger,
            version: "test"
        )
        #expect(try await good.loadInitial().count == 1)
        try "garbage\n".write(toFile: file, atomically: true, encoding: .utf8)
        let recorder = StatsRecorder()
        let saved = SourceRefresher(
            configuration: Self.configuration([file], state: directory + "/state"),
            recorder: recorder,
            logger: Self.logger,
            version: "test"
        )
        let set = try await saved.loadInitial()
        #expect(Self.contains(set, "192.0.2.9"))
        #expect(recorder.sources[0].fromCache && recorder.sources[0].lastReason == "no_valid_entry")
    }

    @Test func aChangedFileIsPickedUpByTheLoop() async throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/exits.list"
        try "192.0.2.1\n".write(toFile: file, atomically: true, encoding: .utf8)
        var configuration = Self.configuration([file], state: nil)
        configuration.filePollInterval = 0.05
        let refresher = SourceRefresher(
            configuration: configuration,
            recorder: StatsRecorder(),
            logger: Self.logger,
            version: "test"
        )
        #expect(try await refresher.loadInitial().count == 1)
        let published = PublishedSets()
        let loop = Task { await refresher.run(publish: published.publish) }
        try "192.0.2.1\n192.0.2.2\n".write(toFile: file, atomically: true, encoding: .utf8)
        for _ in 0..<100 where published.all.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        refresher.requestStop()
        await loop.value
        #expect(published.all.map(\.count) == [2])
    }
}
