import ExitSet
import Testing
import SeededRandom

/// `ExitSet` against a naive model: a `Set<String>` of the normalized host entries and a linear
/// scan over the prefixes, with its own masking arithmetic on `UInt128`.
@Suite("ExitSet property tests")
struct ExitSetPropertyTests {
    struct NaiveModel {
        var hosts: Set<String> = []
        var v4Prefixes: [(value: UInt32, length: Int)] = []
        var v6Prefixes: [(value: UInt128, length: Int)] = []

        init(_ entries: [IPPrefix]) {
            for entry in entries {
                switch entry.address {
                case .v4(let address):
                    if entry.length == 32 {
                        hosts.insert(Self.key(v4: address.value))
                    } else {
                        v4Prefixes.append((address.value, Int(entry.length)))
                    }
                case .v6(let address):
                    if entry.length == 128 {
                        hosts.insert(Self.key(v6: Self.wide(address)))
                    } else {
                        v6Prefixes.append((Self.wide(address), Int(entry.length)))
                    }
                }
            }
        }

        static func key(v4 value: UInt32) -> String { "4/\(value)" }
        static func key(v6 value: UInt128) -> String { "6/\(String(value, radix: 16))" }
        static func wide(_ address: IPv6Address) -> UInt128 { UInt128(address.high) << 64 | UInt128(address.low) }

        func contains(v4 value: UInt32) -> Bool {
            if hosts.contains(Self.key(v4: value)) { return true }
            return v4Prefixes.contains { prefix in
                prefix.length == 0 || (value ^ prefix.value) >> (32 - UInt32(prefix.length)) == 0
            }
        }

        func contains(v6 value: UInt128) -> Bool {
            if hosts.contains(Self.key(v6: value)) { return true }
            return v6Prefixes.contains { prefix in
                prefix.length == 0 || (value ^ prefix.value) >> (128 - UInt128(prefix.length)) == 0
            }
        }
    }

    /// Random entries clustered in a few networks (so that prefixes overlap hosts and each
    /// other), a share of fully random ones, and edge values.
    static func randomEntries(count: Int, using generator: inout SeededGenerator) -> [IPPrefix] {
        let v4Networks: [UInt32] = (0..<4).map { _ in UInt32.random(in: 0...UInt32.max, using: &generator) & 0xFFFF_0000
        }
        let v6Networks: [UInt64] = (0..<4).map { _ in UInt64.random(in: 0...UInt64.max, using: &generator) & ~0xFFFF }
        let v4Lengths: [UInt8] = [1, 8, 12, 16, 20, 23, 24, 24, 25, 26, 28, 30, 31, 32, 32, 32, 32, 32]
        let v6Lengths: [UInt8] = [3, 32, 48, 56, 64, 64, 96, 112, 120, 126, 127, 128, 128, 128, 128, 128]
        var entries: [IPPrefix] = []
        for _ in 0..<count {
            if Bool.random(using: &generator) {
                let value =
                    Int.random(in: 0..<10, using: &generator) < 7
                    ? v4Networks.randomElement(using: &generator)! | UInt32.random(in: 0...0xFFFF, using: &generator)
                    : UInt32.random(in: 0...UInt32.max, using: &generator)
                let length = v4Lengths.randomElement(using: &generator)!
                // Host bits stay in: IPPrefix must clear them.
                entries.append(IPPrefix(.v4(IPv4Address(value)), length: length))
            } else {
                let clustered = Int.random(in: 0..<10, using: &generator) < 7
                let high =
                    clustered
                    ? v6Networks.randomElement(using: &generator)! | UInt64.random(in: 0...0xFFFF, using: &generator)
                    : UInt64.random(in: 0...UInt64.max, using: &generator)
                let low =
                    Bool.random(using: &generator)
                    ? UInt64.random(in: 0...0xFF, using: &generator)
                    : UInt64.random(in: 0...UInt64.max, using: &generator)
                let length = v6Lengths.randomElement(using: &generator)!
                entries.append(IPPrefix(.v6(IPv6Address(high: high, low: low)), length: length))
            }
        }
        return entries
    }

    /// Probes: random addresses, the first and last address of each entry and their
    /// neighbours, random addresses inside each entry, and the extremes.
    static func probes(for entries: [IPPrefix], using generator: inout SeededGenerator) -> (v4: [UInt32], v6: [UInt128])
    {
        var v4: [UInt32] = [0, 1, 0x7FFF_FFFF, 0x8000_0000, .max - 1, .max]
        var v6: [UInt128] = [0, 1, .max - 1, .max, UInt128(UInt64.max), UInt128(UInt64.max) + 1]
        for _ in 0..<500 {
            v4.append(UInt32.random(in: 0...UInt32.max, using: &generator))
            v6.append(
                UInt128(UInt64.random(in: 0...UInt64.max, using: &generator)) << 64
                    | UInt128(UInt64.random(in: 0...UInt64.max, using: &generator))
            )
        }
        for entry in entries {
            switch entry.address {
            case .v4(let address):
                let first = address.value
                let last = first | (entry.length == 0 ? .max : UInt32.max >> UInt32(entry.length))
                let inside = first | (UInt32.random(in: 0...UInt32.max, using: &generator) & (last ^ first))
                v4 += [first, last, first &- 1, last &+ 1, inside, inside &+ 1, inside &- 1]
            case .v6(let address):
                let first = NaiveModel.wide(address)
                let hostMask: UInt128 = entry.length == 0 ? .max : UInt128.max >> UInt128(entry.length)
                let last = first | hostMask
                let random =
                    UInt128(UInt64.random(in: 0...UInt64.max, using: &generator)) << 64
                    | UInt128(UInt64.random(in: 0...UInt64.max, using: &generator))
                let inside = first | (random & hostMask)
                v6 += [first, last, first &- 1, last &+ 1, inside, inside &+ 1, inside &- 1]
            }
        }
        return (v4, v6)
    }

    @Test(arguments: [(UInt64(1), 10), (2, 100), (3, 1000), (4, 3000), (5, 1), (6, 50), (7, 400), (8, 2000)])
    func agreesWithTheNaiveModel(seed: UInt64, count: Int) {
        var generator = SeededGenerator(seed: seed)
        let entries = Self.randomEntries(count: count, using: &generator)
        let set = ExitSet(entries)
        let model = NaiveModel(entries)
        let probes = Self.probes(for: entries, using: &generator)
        var mismatches: [String] = []
        for value in probes.v4 {
            let expected = model.contains(v4: value)
            if set.contains(ipv4: value) != expected || set.contains(.v4(IPv4Address(value))) != expected {
                mismatches.append(IPv4Address(value).description)
            }
        }
        for value in probes.v6 {
            let expected = model.contains(v6: value)
            let high = UInt64(truncatingIfNeeded: value >> 64)
            let low = UInt64(truncatingIfNeeded: value)
            let address = IPv6Address(high: high, low: low)
            // The IPAddress API normalizes IPv4-mapped addresses; the model does not.
            let viaAPI = address.isIPv4Mapped ? expected : set.contains(.v6(address))
            if set.contains(ipv6High: high, ipv6Low: low) != expected || viaAPI != expected {
                mismatches.append(address.description)
            }
        }
        #expect(mismatches.isEmpty, "seed \(seed): \(mismatches.prefix(10))")
    }

    @Test(arguments: [UInt64(11), 12, 13])
    func matchAgreesWithALinearScan(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let entries = Self.randomEntries(count: 300, using: &generator)
        let set = ExitSet(entries)
        let probes = Self.probes(for: entries, using: &generator)
        let addresses =
            probes.v4.map { IPAddress.v4(IPv4Address($0)) }
            + probes.v6.map {
                IPAddress.v6(
                    IPv6Address(high: UInt64(truncatingIfNeeded: $0 >> 64), low: UInt64(truncatingIfNeeded: $0))
                )
            }
        for address in addresses.prefix(3000) where !(address.description.hasPrefix("::ffff:")) {
            let expected = set.entries.filter { $0.contains(address) }.max { $0.length < $1.length }
            #expect(set.match(address) == expected, "\(address)")
            #expect(set.contains(address) == (expected != nil), "\(address)")
        }
    }

    @Test func entriesAreSortedAndDistinct() {
        var generator = SeededGenerator(seed: 21)
        let entries = Self.randomEntries(count: 2000, using: &generator)
        let set = ExitSet(entries + entries.shuffled(using: &generator))
        #expect(set.count == Set(entries).count)
        #expect(zip(set.entries, set.entries.dropFirst()).allSatisfy { $0 < $1 })
        let firstV6 = set.entries.firstIndex { if case .v6 = $0.address { true } else { false } } ?? set.count
        #expect(set.entries[..<firstV6].allSatisfy { if case .v4 = $0.address { true } else { false } })
        #expect(set.entries[firstV6...].allSatisfy { if case .v6 = $0.address { true } else { false } })
        #expect(set.ipv4Count == firstV6)
        #expect(set.ipv6Count == set.count - firstV6)
    }

    @Test func hundredThousandPrefixes() {
        var generator = SeededGenerator(seed: 31)
        let lengths: [UInt8] = [16, 20, 22, 24, 24, 24, 25, 27, 29, 31]
        let entries = (0..<100_000).map { _ in
            IPPrefix(
                .v4(IPv4Address(UInt32.random(in: 0...UInt32.max, using: &generator))),
                length: lengths.randomElement(using: &generator)!
            )
        }
        let set = ExitSet(entries)
        for entry in entries.prefix(2000) {
            guard case .v4(let address) = entry.address else { continue }
            #expect(set.contains(ipv4: address.value))
            #expect(set.contains(ipv4: address.value | (UInt32.max >> UInt32(entry.length))))
        }
        let model = NaiveModel(entries)
        var sampled = 0
        for _ in 0..<300 {
            let value = UInt32.random(in: 0...UInt32.max, using: &generator)
            let expected = model.contains(v4: value)
            #expect(set.contains(ipv4: value) == expected)
            sampled += expected ? 1 : 0
        }
        #expect(sampled > 0)
    }
}
