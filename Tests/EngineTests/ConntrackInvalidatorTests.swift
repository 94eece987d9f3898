import Conntrack
import ExitSet
import NetfilterQueue
import Rules
import Synchronization
import Testing

@testable import Engine

@Suite struct ConntrackInvalidatorTests {
    private func set(_ texts: [String]) -> ExitSet {
        ExitSet(texts.map { IPPrefix($0)! })
    }

    private func v4(_ text: String) -> ConntrackAddress {
        guard case .v4(let address) = IPAddress(text)! else { fatalError("not IPv4: \(text)") }
        return .v4(address.value)
    }

    private func v6(_ text: String) -> ConntrackAddress {
        guard case .v6(let address) = IPAddress(text)! else { fatalError("not IPv6: \(text)") }
        return .v6(high: address.high, low: address.low)
    }

    @Test func growthIsANewlyCoveredAddress() {
        let old = set(["198.51.100.10", "198.51.100.0/30", "2001:db8:bad::/64"])
        #expect(!ConntrackInvalidator.grew(from: old, to: old))
        // Removing entries, or adding ones already covered, is not growth.
        #expect(!ConntrackInvalidator.grew(from: old, to: set(["198.51.100.10"])))
        #expect(
            !ConntrackInvalidator.grew(from: old, to: set(["198.51.100.2", "2001:db8:bad::10", "2001:db8:bad::/80"]))
        )
        #expect(!ConntrackInvalidator.grew(from: old, to: ExitSet.empty))
        // A new host, a wider prefix, another family.
        #expect(ConntrackInvalidator.grew(from: old, to: set(["198.51.100.11"])))
        #expect(ConntrackInvalidator.grew(from: old, to: set(["198.51.100.0/29"])))
        #expect(ConntrackInvalidator.grew(from: old, to: set(["2001:db8:bad:1::1"])))
        #expect(ConntrackInvalidator.grew(from: ExitSet.empty, to: old))
    }

    @Test func entriesOfNewlyListedAddressesOnly() {
        let old = set(["198.51.100.10", "2001:db8:bad::10"])
        let new = set(["198.51.100.10", "198.51.100.11", "2001:db8:bad::/120"])
        let server4 = v4("192.0.2.18")
        let server6 = v6("2001:db8:2::2")
        func tcp(_ source: ConntrackAddress, _ destination: ConntrackAddress) -> ConntrackEntry {
            ConntrackEntry(
                source: source,
                destination: destination,
                protocolNumber: 6,
                sourcePort: 1,
                destinationPort: 2
            )
        }
        let newly4 = tcp(v4("198.51.100.11"), server4)
        let already4 = tcp(v4("198.51.100.10"), server4)
        let clean4 = tcp(v4("203.0.113.10"), server4)
        let newly6 = tcp(v6("2001:db8:bad::11"), server6)
        let already6 = tcp(v6("2001:db8:bad::10"), server6)
        let outbound4 = tcp(server4, v4("198.51.100.11"))
        let outbound6 = tcp(server6, v6("2001:db8:bad::12"))

        func deleted(_ direction: MatchDirection) -> [ConntrackEntry] {
            [newly4, already4, clean4, newly6, already6, outbound4, outbound6].filter {
                ConntrackInvalidator.shouldDelete($0, old: old, new: new, direction: direction)
            }
        }
        #expect(deleted(.source) == [newly4, newly6])
        #expect(deleted(.destination) == [outbound4, outbound6])
        #expect(deleted(.both) == [newly4, newly6, outbound4, outbound6])
    }

    @Test func noDumpWhenTheSetDidNotGrow() {
        let lines = LogLines()
        let invalidator = ConntrackInvalidator(direction: .source) { lines.append($0) }
        let outcome = invalidator.invalidate(old: set(["198.51.100.10"]), new: set(["198.51.100.10"]))
        #expect(outcome.skipped)
        #expect(invalidator.figures == ConntrackInvalidator.Figures())
        #expect(lines.all.count == 1)
    }
}

/// Collects log lines from any thread.
private final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
