import ExitSet
import Testing

@Suite("Port policies")
struct PortPolicyTests {
    @Test func parsesSummaries() throws {
        let accept = try #require(PortPolicy.parse(summary: "accept 20-21,80,443"))
        #expect(accept.ranges == [20...21, 80...80, 443...443])
        #expect(accept.accepts(80) && accept.accepts(21) && !accept.accepts(22) && !accept.accepts(0))
        let reject = try #require(PortPolicy.parse(summary: "reject 25,119,135-139"))
        #expect(reject.ranges == [1...24, 26...118, 120...134, 140...65535])
        #expect(!reject.accepts(25) && !reject.accepts(137) && reject.accepts(443) && reject.accepts(65535))
        #expect(PortPolicy.parse(summary: "accept 1-65535") == .all)
        #expect(PortPolicy.parse(summary: "accept 1-65535")!.isAll)
        #expect(PortPolicy.parse(summary: "reject 1-65535") == PortPolicy.none)
        #expect(PortPolicy.parse(summary: "reject 1-65535")!.ranges.isEmpty)
    }

    @Test func refusesBadSummaries() {
        for bad in [
            "accept", "allow 80", "accept 0", "accept 65536", "accept 80,", "accept ,80", "accept 90-80",
            "accept 443,80", "accept 80-90,85", "accept 8a", "accept 123456", "reject 1--2", "accept 80 443",
        ] {
            #expect(PortPolicy.parse(summary: bad) == nil, "\(bad)")
        }
    }

    @Test func summaryRoundTrips() throws {
        for text in ["accept 80,443", "reject 22,25", "accept 1-65535", "reject 1-65535", "accept 20-21,8080-8090"] {
            let policy = try #require(PortPolicy.parse(summary: text))
            #expect(policy.summary == text)
        }
    }

    @Test func union() throws {
        let web = try #require(PortPolicy.parse(summary: "accept 80,443"))
        let mail = try #require(PortPolicy.parse(summary: "accept 25,81"))
        #expect(web.union(mail).ranges == [25...25, 80...81, 443...443])
        #expect(web.union(.all).isAll)
        #expect(web.union(.none) === web)
    }

    static let consensus = """
        network-status-version 3
        vote-status consensus
        r web AAoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 192.0.2.1 9001 0
        a [2001:db8::1]:9001
        s Exit Fast Running Valid
        p accept 80,443
        r mail ABElTMhEQ2myDvERVriZBDgiGlQ y/fqWhmFHAgpsHc59tXyQKtcRks 2022-11-18 21:31:58 192.0.2.1 443 0
        s Exit Fast Running Valid
        p accept 25
        r open ABElTMhEQ2myDvERVriZBDgiGlQ y/fqWhmFHAgpsHc59tXyQKtcRks 2022-11-18 21:31:58 192.0.2.2 443 0
        s Exit Fast Running Valid
        p accept 1-65535
        r broken ABElTMhEQ2myDvERVriZBDgiGlQ y/fqWhmFHAgpsHc59tXyQKtcRks 2022-11-18 21:31:58 192.0.2.3 443 0
        s Exit Fast Running Valid
        p accept 443,80
        r noexit ABElTMhEQ2myDvERVriZBDgiGlQ y/fqWhmFHAgpsHc59tXyQKtcRks 2022-11-18 21:31:58 192.0.2.4 443 0
        s Fast Running Valid
        p reject 1-65535
        directory-footer
        """

    @Test func consensusPolicies() throws {
        let list = try ListParser.parse(Array(text: Self.consensus), format: .consensus)
        let shared = try #require(list.policies[IPPrefix("192.0.2.1")!])
        #expect(shared.ranges == [25...25, 80...80, 443...443])
        #expect(list.policies[IPPrefix("192.0.2.2")!] == nil)  // all ports
        #expect(list.policies[IPPrefix("2001:db8::1")!] == nil)  // no IPv6 summary in a consensus
        #expect(list.policies[IPPrefix("192.0.2.3")!] == nil)  // malformed: all ports, and reported
        #expect(list.rejectedCount == 1)
        #expect(list.rejected.first?.line == 15)
        #expect(list.relays[IPPrefix("192.0.2.1")!]?.map(\.nickname) == ["web", "mail"])

        let set = ExitSet(list.entries, policies: list.policies)
        let address = IPAddress("192.0.2.1")!
        #expect(set.match(address, port: 443) == .listed)
        #expect(set.match(address, port: 25) == .listed)
        #expect(set.match(address, port: 22) == .outsidePolicy)
        #expect(set.match(address, port: 0) == .outsidePolicy)
        #expect(set.match(IPAddress("192.0.2.2")!, port: 22) == .listed)
        #expect(set.match(IPAddress("2001:db8::1")!, port: 22) == .listed)
        #expect(set.match(IPAddress("192.0.2.4")!, port: 22) == .notListed)
        #expect(set.contains(address))
        #expect(set.policy(of: address) == shared)
    }

    @Test func prefixesAndOtherListsCoverEveryPort() throws {
        let consensus = try ListParser.parse(Array(text: Self.consensus), format: .consensus)
        let plain = try ListParser.parse(Array(text: "192.0.2.0/24\n198.51.100.7\n"), format: .plain)
        let policies = PortPolicy.merge([(consensus.entries, consensus.policies), (plain.entries, plain.policies)])
        let set = ExitSet(consensus.entries + plain.entries, policies: policies)
        // The prefix covers 192.0.2.1 at every port.
        #expect(set.match(IPAddress("192.0.2.1")!, port: 22) == .listed)
        let alone = ExitSet(consensus.entries, policies: consensus.policies)
        #expect(alone.match(IPAddress("192.0.2.1")!, port: 22) == .outsidePolicy)
        // A plain list naming the host makes it all ports.
        let host = try ListParser.parse(Array(text: "192.0.2.1\n"), format: .plain)
        let merged = PortPolicy.merge([(consensus.entries, consensus.policies), (host.entries, host.policies)])
        #expect(merged[IPPrefix("192.0.2.1")!] == nil)
    }

    @Test func onionooPolicies() throws {
        let document = """
            {"relays":[
             {"nickname":"a","or_addresses":["192.0.2.1:443","[2001:db8::1]:443"],"exit_addresses":["192.0.2.9"],
              "flags":["Exit","Running"],"exit_policy_summary":{"accept":["80","443","1000-2000"]},
              "exit_policy_v6_summary":{"reject":["25"]}},
             {"nickname":"b","or_addresses":["192.0.2.1:9001"],"flags":["Exit"],
              "exit_policy_summary":{"reject":["1-65535"]}},
             {"nickname":"c","or_addresses":["192.0.2.5:9001"],"flags":["Exit"],
              "exit_policy_summary":{"accept":["80x"]}}
            ]}
            """
        let list = try ListParser.parse(Array(text: document), format: .onionoo)
        #expect(list.policies[IPPrefix("192.0.2.1")!]?.summary == "accept 80,443,1000-2000")
        #expect(list.policies[IPPrefix("192.0.2.9")!]?.summary == "accept 80,443,1000-2000")
        #expect(list.policies[IPPrefix("2001:db8::1")!]?.summary == "reject 25")
        #expect(list.policies[IPPrefix("192.0.2.5")!] == nil)
        #expect(list.rejectedCount == 1)
        // Interned: one object for both addresses.
        #expect(list.policies[IPPrefix("192.0.2.1")!] === list.policies[IPPrefix("192.0.2.9")!])
    }

    /// Every exit relay of the real consensus, read again by a naive model (String splitting,
    /// a per-relay accept/reject list of ranges): the set must agree at every port where any
    /// summary changes (each range bound, one below and one above) and at 0, 1, 65535.
    @Test func realConsensusAgainstNaiveModel() throws {
        let bytes = try TestData.bytes("consensus-2022-11-19")
        let list = try ListParser.parse(bytes)
        let set = ExitSet(list.entries, policies: list.policies)

        struct NaiveRelay {
            var addresses: [String] = []
            var exit = false
            var summary: (accept: Bool, ranges: [(Int, Int)])?
        }
        var relays: [NaiveRelay] = []
        var ports: Set<Int> = [0, 1, 2, 65534, 65535]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("directory-footer") { break }
            let fields = line.split(separator: " ")
            switch fields.first {
            case "r":
                relays.append(NaiveRelay(addresses: [String(fields[6])]))
            case "a":
                var text = String(fields[1])
                text = String(text[..<text.lastIndex(of: ":")!])
                relays[relays.count - 1].addresses.append(text.trimmingCharacters(in: ["[", "]"]))
            case "s":
                relays[relays.count - 1].exit = fields.contains("Exit") && !fields.contains("BadExit")
            case "p":
                let ranges = fields[2].split(separator: ",").map { item -> (Int, Int) in
                    let bounds = item.split(separator: "-").map { Int($0)! }
                    return (bounds[0], bounds.last!)
                }
                for (low, high) in ranges {
                    ports.formUnion([low - 1, low, high, high + 1].filter { $0 >= 0 && $0 <= 65535 })
                }
                relays[relays.count - 1].summary = (fields[1] == "accept", ranges)
            default:
                break
            }
        }
        #expect(relays.count == 6_088)
        var byAddress: [String: [NaiveRelay]] = [:]
        for relay in relays where relay.exit {
            for address in relay.addresses { byAddress[address, default: []].append(relay) }
        }
        #expect(byAddress.count == 1_138 + 647)
        let sortedPorts = ports.sorted()
        var checked = 0
        for (text, holders) in byAddress {
            let address = try #require(IPAddress(text))
            let isIPv4 = !text.contains(":")
            for port in sortedPorts {
                let naive = holders.contains { relay in
                    guard isIPv4, let summary = relay.summary else { return true }
                    let inList = summary.ranges.contains { $0.0 <= port && port <= $0.1 }
                    if summary.accept && summary.ranges.count == 1 && summary.ranges[0] == (1, 65535) { return true }
                    if port == 0 { return false }  // only "accept 1-65535" (every port) covers port 0
                    return summary.accept ? inList : !inList
                }
                let found = set.match(address, port: UInt16(port))
                if naive != (found == .listed) {
                    Issue.record("\(text) port \(port): naive \(naive), set \(found)")
                    return
                }
                checked += 1
            }
        }
        #expect(checked == byAddress.count * sortedPorts.count)
        // Shared, not copied: no more distinct policies than distinct unions of summaries.
        let distinct = Set(list.policies.values.map(ObjectIdentifier.init))
        #expect(distinct.count == Set(list.policies.values).count)
        #expect(set.portPolicyList.count <= 235)
    }
}
