import Engine
import ExitSet
import Foundation
import ListSources
import Stats
import Testing

/// `/explain` on the stats routes, `SetExplanation` and its rendering, and staleness in
/// `/healthz`.
@Suite("Explain route and staleness")
struct ExplainRouteTests {
    static let exits = ExitSet(
        [IPPrefix("192.0.2.1")!, IPPrefix("2001:db8::1")!, IPPrefix("198.51.100.0/24")!],
        policies: [IPPrefix("192.0.2.1")!: PortPolicy(accepting: [443...443])]
    )

    static func listings() -> SourceListings {
        let listings = SourceListings()
        listings.update([
            .init(source: "https://a.example/bulk", entries: [IPPrefix("192.0.2.1")!]),
            .init(
                source: "https://b.example/onionoo",
                entries: [IPPrefix("192.0.2.1")!, IPPrefix("2001:db8::1")!],
                policies: [IPPrefix("192.0.2.1")!: PortPolicy(accepting: [443...443])]
            ),
        ])
        return listings
    }

    static func routes(policy: Policy = Policy(), allow: [IPPrefix] = []) -> StatsRoutes {
        let sets = PolicySets(exits: exits, allowlist: ExitSet(allow), generation: 7)
        let listings = listings()
        var snapshot = StatsFixture.snapshot()
        var source = StatsFixture.source
        source.path = "https://b.example/onionoo"
        source.maxAge = 60
        source.lastSuccess = snapshot.time - 120
        snapshot.sources = [source]
        let figures = snapshot
        let explain = ExplainRoute(sources: { figures }) { address, port, transport in
            SetExplanation.explain(
                address,
                port: port,
                transport: transport,
                sets: sets,
                policy: policy,
                sourcesHolding: { listings.explanationSources(holding: $0) }
            )
        }
        return StatsRoutes(snapshot: { figures }, explain: explain)
    }

    static func answer(_ routes: StatsRoutes, _ uri: String) throws -> SetExplanation {
        let response = routes.respond(method: "GET", uri: uri)
        #expect(response.status == 200)
        return try JSONDecoder().decode(SetExplanation.self, from: Data(response.body))
    }

    @Test func listedAddressNamesItsSourcesAndStaleness() throws {
        let answer = try Self.answer(Self.routes(), "/explain?address=192.0.2.1")
        #expect(answer.blocked)
        #expect(answer.entry == "192.0.2.1")
        #expect(answer.decision == "listedSource")
        #expect(answer.verdict == "drop")
        #expect(answer.sources.map(\.source) == ["https://a.example/bulk", "https://b.example/onionoo"])
        #expect(answer.sources[1].policy == "accept 443")
        #expect(answer.sources[1].stale)
        #expect(!answer.sources[0].stale)
        #expect(answer.setGeneration == 7)
        let lines = answer.lines(now: answer.sources[1].lastSuccess + 120)
        #expect(lines[0] == "blocked: 192.0.2.1 matches 192.0.2.1 (drop)")
        #expect(
            lines[2].hasPrefix("  listed by https://b.example/onionoo, policy accept 443, last good version 2m ago")
        )
        #expect(lines[2].hasSuffix("(STALE)"))
    }

    /// What `exitblock check --socket` sends: addresses pass unchanged, anything else is
    /// written as %XX, and the route reads it back.
    @Test func targetEncodesAndTheRouteDecodes() throws {
        #expect(ExplainRoute.target(address: "192.0.2.7") == "/explain?address=192.0.2.7")
        #expect(
            ExplainRoute.target(address: "2001:db8::1", port: 443, transport: "udp")
                == "/explain?address=2001:db8::1&port=443&protocol=udp"
        )
        #expect(ExplainRoute.target(address: "a b&c=d/é") == "/explain?address=a%20b%26c%3Dd%2F%C3%A9")
        let routes = Self.routes()
        let answer = try Self.answer(routes, ExplainRoute.target(address: "192.0.2.1", port: 443))
        #expect(answer.blocked && answer.port == 443)
        let refused = routes.respond(method: "GET", uri: ExplainRoute.target(address: "a b&c=d"))
        #expect(refused.status == 400)
    }

    @Test func portOutsideTheExitPolicy() throws {
        let routes = Self.routes(policy: Policy(exitPolicy: true))
        let outside = try Self.answer(routes, "/explain?address=192.0.2.1&port=80&protocol=tcp")
        #expect(!outside.blocked)
        #expect(outside.decision == "outsidePolicy")
        #expect(
            outside.lines(now: 0)[0].hasPrefix(
                "not blocked: 192.0.2.1 matches 192.0.2.1, but its exit policy leaves out"
            )
        )
        let inside = try Self.answer(routes, "/explain?address=192.0.2.1&port=443")
        #expect(inside.blocked)
        #expect(inside.port == 443)
    }

    @Test func allowlistedPrefixAndUnlisted() throws {
        let routes = Self.routes(allow: [IPPrefix("198.51.100.0/25")!])
        let allowed = try Self.answer(routes, "/explain?address=198.51.100.7")
        #expect(!allowed.blocked)
        #expect(allowed.allowlistEntry == "198.51.100.0/25")
        #expect(allowed.entry == "198.51.100.0/24")
        #expect(allowed.lines(now: 0)[0].hasPrefix("not blocked: 198.51.100.7 is allowlisted by 198.51.100.0/25"))
        let unlisted = try Self.answer(routes, "/explain?address=2001%3Adb8%3A%3A2")
        #expect(!unlisted.blocked)
        #expect(unlisted.entry == nil)
        #expect(unlisted.lines(now: 0)[0] == "not blocked: 2001:db8::2 is in no list (3 entries)")
        let v6 = try Self.answer(routes, "/explain?address=2001:db8::1")
        #expect(v6.blocked)
        #expect(v6.sources.map(\.source) == ["https://b.example/onionoo"])
    }

    @Test func destinationMatchJudgesTheDestination() throws {
        let answer = try Self.answer(Self.routes(policy: Policy(match: .destination)), "/explain?address=192.0.2.1")
        #expect(answer.decision == "listedDestination")
    }

    @Test func badQueriesAre400AndTheRouteIsReadOnly() {
        let routes = Self.routes()
        #expect(routes.respond(method: "GET", uri: "/explain").status == 400)
        #expect(routes.respond(method: "GET", uri: "/explain?address=nope").status == 400)
        #expect(routes.respond(method: "GET", uri: "/explain?address=192.0.2.1&port=0").status == 400)
        #expect(routes.respond(method: "GET", uri: "/explain?address=192.0.2.1&protocol=sctp").status == 400)
        #expect(routes.respond(method: "POST", uri: "/explain?address=192.0.2.1").status == 405)
        let without = StatsRoutes(snapshot: { StatsFixture.snapshot() })
        #expect(without.respond(method: "GET", uri: "/explain?address=192.0.2.1").status == 404)
    }

    @Test func staleSourceIsAWarningNotAFailure() {
        var snapshot = StatsFixture.snapshot()
        var source = StatsFixture.source
        source.maxAge = 3600
        source.lastSuccess = snapshot.time - 7300
        snapshot.sources = [source]
        #expect(snapshot.isStale(source))
        #expect(snapshot.problems == StatsFixture.snapshot().problems)
        #expect(snapshot.warnings.count == 1)
        #expect(snapshot.warnings[0].contains("is stale: its last good version is 2h01m old (max-source-age 1h00m)"))
        let figures = snapshot
        let health = StatsRoutes(snapshot: { figures }).respond(method: "GET", uri: "/healthz")
        let text = String(decoding: health.body, as: UTF8.self)
        #expect(text.contains("; warning: source"))
        #expect(health.status == 200)
        #expect(StatsJSON(snapshot).warnings == snapshot.warnings)
        let metrics = String(decoding: PrometheusExposition(snapshot).bytes, as: UTF8.self)
        #expect(metrics.contains("exitblock_source_stale{source=\"/etc/exitblock/\\\"exits\\\".txt\"} 1"))
        #expect(metrics.contains("exitblock_healthy 1") == StatsFixture.snapshot().problems.isEmpty)
        source.maxAge = 0
        snapshot.sources = [source]
        #expect(snapshot.warnings.isEmpty)
    }
}
