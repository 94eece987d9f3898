import ExitSet
import Foundation
import Testing

@testable import Engine

@Suite struct TopListedTableTests {
    private func add(_ table: TopListedTable, _ text: String, _ packets: UInt64 = 1) {
        table.beginUpdate()
        switch IPAddress(text)! {
        case .v4(let address):
            let key = TopListedTable.key(ipv4: address.value)
            table.add(high: key.high, low: key.low, packets: packets)
        case .v6(let address):
            table.add(high: address.high, low: address.low, packets: packets)
        }
        table.endUpdate()
    }

    @Test func countsExactlyWhileThereIsRoom() {
        let table = TopListedTable()
        for _ in 0..<5 { add(table, "198.51.100.10") }
        add(table, "198.51.100.11", 3)
        add(table, "2001:db8:bad::10", 7)
        add(table, "0.0.0.1")
        add(table, "::1", 2)
        let top = TopListedTable.top([table], limit: 10)
        #expect(
            top == [
                .init(address: "2001:db8:bad::10", packets: 7), .init(address: "198.51.100.10", packets: 5),
                .init(address: "198.51.100.11", packets: 3), .init(address: "::1", packets: 2),
                .init(address: "0.0.0.1", packets: 1),
            ]
        )
        #expect(TopListedTable.top([table], limit: 2).count == 2)
        #expect(TopListedTable.top([table], limit: 0).isEmpty)
        #expect(TopListedTable.top([TopListedTable()], limit: 10).isEmpty)
    }

    @Test func tablesAreMergedPerAddress() {
        let first = TopListedTable()
        let second = TopListedTable()
        add(first, "198.51.100.10", 4)
        add(second, "198.51.100.10", 6)
        add(second, "2001:db8:bad::11", 9)
        #expect(
            TopListedTable.top([first, second], limit: 10) == [
                .init(address: "198.51.100.10", packets: 10), .init(address: "2001:db8:bad::11", packets: 9),
            ]
        )
    }

    @Test func memoryStaysBoundedAndHeavyAddressesStay() {
        let table = TopListedTable()
        add(table, "198.51.100.1", 1000)
        add(table, "2001:db8:bad::1", 500)
        // 20,000 distinct addresses once each, with the heavy ones still sending in between.
        for index in 0..<20_000 {
            add(table, "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)")
            if index % 100 == 0 {
                add(table, "198.51.100.1")
                add(table, "2001:db8:bad::1")
            }
        }
        #expect(table.slots().count == TopListedTable.capacity)
        let top = TopListedTable.top([table], limit: 3)
        #expect(top[0] == .init(address: "198.51.100.1", packets: 1200))
        #expect(top[1] == .init(address: "2001:db8:bad::1", packets: 700))
        #expect(top[2].packets == 1)
    }

    @Test func aReaderNeverSeesHalfAnUpdate() async {
        // Each update adds 1 to four addresses; every consistent copy has four equal counts.
        // Updates come with a pause between them, as bursts do (a receive call in between).
        let table = TopListedTable()
        let keys: [(UInt64, UInt64)] = (1...4).map { (0x2001_0db8_0000_0000, UInt64($0)) }
        let stop = ManagedFlag()
        let writer = Thread {
            while !stop.isSet {
                table.beginUpdate()
                for key in keys { table.add(high: key.0, low: key.1) }
                table.endUpdate()
                usleep(20)
            }
        }
        writer.start()
        var checked = 0
        var torn = 0
        while checked < 500 {
            let slots = table.slots()
            guard slots.count == 4 else { continue }
            if Set(slots.map(\.packets)).count != 1 { torn += 1 }
            checked += 1
        }
        stop.set()
        #expect(torn == 0)
    }

    @Test func capacityMatchesTheStorage() {
        let table = TopListedTable()
        for index in 0..<(TopListedTable.capacity * 4) {
            add(table, "2001:db8::\(String(index, radix: 16))")
        }
        #expect(table.slots().count == TopListedTable.capacity)
    }
}

/// A flag one thread sets and another reads.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
