import Engine
import Foundation
import Stats
import Testing

@Suite struct StatsJSONTests {
    @Test func roundTripsAndHasTheDocumentedShape() throws {
        let document = StatsJSON(StatsFixture.snapshot())
        let bytes = document.bytes
        #expect(try StatsJSON.decode(bytes) == document)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(Set(object.keys) == ["healthy", "problems", "setAge", "stats", "warnings"])
        #expect(object["healthy"] as? Bool == true)
        #expect(object["setAge"] as? Double == 59.75)
        let stats = try #require(object["stats"] as? [String: Any])
        let keys: Set<String> = [
            "build", "kernelTableReadable", "processStart", "queues", "refusals", "set", "sources", "time", "policy",
            "topListed",
        ]
        #expect(Set(stats.keys) == keys)
        let policy = try #require(stats["policy"] as? [String: Any])
        #expect(policy["match"] as? String == "both")
        #expect(policy["action"] as? String == "reject")
        #expect(policy["rejectMark"] as? Int == 0x4542)
        #expect(policy["allowlistIPv4Entries"] as? Int == 2)
        let top = try #require(stats["topListed"] as? [[String: Any]])
        #expect(top.first?["address"] as? String == "198.51.100.10")
        #expect(top.first?["packets"] as? Int == 4)
        let queues = try #require(stats["queues"] as? [[String: Any]])
        #expect(queues.count == 2)
        let counters = try #require(queues[0]["counters"] as? [String: Any])
        #expect(counters["packets"] as? Int == 20)
        #expect(counters["ipv6_dropped"] as? Int == 2)
        #expect(counters["rejected"] as? Int == 2)
        #expect(counters["ipv4_allowlisted"] as? Int == 2)
        #expect(counters["would_drop"] as? Int == 0)
        #expect(counters["unparsable"] as? Int == 2)
        #expect(counters["ipv4"] as? Int == 10)
        // The keys of the counters, exactly as dashboards and `exitblock stats` read them.
        let counterKeys: Set<String> = [
            "packets", "accepted", "dropped", "unparsable", "ipv4", "ipv6", "ipv4_dropped", "ipv6_dropped", "rejected",
            "ipv4_rejected", "ipv6_rejected", "allowlisted", "ipv4_allowlisted", "ipv6_allowlisted", "would_drop",
            "ipv4_would_drop", "ipv6_would_drop", "reject_returned", "outside_policy", "policy_ports_unread", "enobufs",
            "verdict_errors", "send_errors", "verdict_resends", "single_verdicts", "deferred_verdicts",
            "receive_errors", "malformed_messages", "truncated_datagrams", "overflow", "bursts_size_1",
            "bursts_size_2_3", "bursts_size_4_7", "bursts_size_8_15", "bursts_size_16_31", "bursts_size_32_63",
            "bursts_size_64_plus", "rebinds", "rebind_failures",
        ]
        #expect(Set(counters.keys) == counterKeys)
        #expect(Set(queues[0].keys) == ["queue", "counters", "burstSizes", "maxLength", "kernel", "bound"])
        #expect(queues[0]["burstSizes"] as? [Int] == [2, 0, 1, 1, 0, 0, 0])
        let kernel = try #require(queues[0]["kernel"] as? [String: Any])
        #expect(kernel["queueDropped"] as? Int == 7)
        let set = try #require(stats["set"] as? [String: Any])
        #expect(set["ipv4Entries"] as? Int == 1200)
    }

    @Test func unhealthyDocumentSaysWhy() throws {
        let document = StatsJSON(StatsFixture.snapshot(bound: false))
        #expect(!document.healthy)
        #expect(document.problems == ["queue 1 unbound for 2.5 s"])
    }

    @Test func sortedKeysMakeStableOutput() {
        #expect(StatsJSON(StatsFixture.snapshot()).bytes == StatsJSON(StatsFixture.snapshot()).bytes)
    }
}
