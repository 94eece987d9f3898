import ExitSet
import SeededRandom
import LinuxSystem
import SystemPackage

/// The inputs of the benchmarks: the real Tor lists (read from disk, never copied into the
/// package) and synthetic lists and probe streams made with a seeded generator.
enum BenchData {
    /// The real lists the benchmarks use, by file name under the data directory.
    static let bulkList = "torbulkexitlist-2024-03-12"
    static let exitAddresses = "exit-addresses-2024-03-12"
    static let secopsList = "secops-tor-exit-nodes-2024-02-27.lst"
    static let consensus = "consensus-2022-11-19"
    static let realLists = [bulkList, exitAddresses, secopsList, consensus]

    /// The directory holding the real lists: `explicit` if given, else `$EXITBLOCK_DATA`, else
    /// `../shared/data/tor` from the working directory or from the package root this file was
    /// compiled in.
    static func dataDirectory(explicit: String?) -> String? {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        if let environment = CurrentProcess.environment("EXITBLOCK_DATA") { candidates.append(environment) }
        candidates.append("../shared/data/tor")
        // <root>/Sources/ExitBlockBench/BenchData.swift -> <root>/../shared/data/tor
        var root = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        root.removeLast(3)
        candidates.append(root.joined(separator: "/") + "/../shared/data/tor")
        return candidates.first { (try? read("\($0)/\(bulkList)")) != nil }
    }

    /// The bytes of a file.
    static func read(_ path: String) throws(BenchError) -> [UInt8] {
        guard let file = try? FileDescriptor.open(FilePath(path), .readOnly) else { throw .cannotRead(path) }
        defer { try? file.close() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            guard let count = try? chunk.withUnsafeMutableBytes({ try file.read(into: $0) }) else {
                throw .cannotRead(path)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// The entries of a real list (format detected).
    static func entries(_ path: String) throws(BenchError) -> [IPPrefix] {
        let bytes = try read(path)
        do {
            return try ListParser.parse(bytes).entries
        } catch {
            throw .cannotParse(path, "\(error)")
        }
    }

    /// `count` random IPv4 prefixes, lengths mixed like a large block list: 60% /32, 20% /24,
    /// 10% /25–/31, 9.9% /16–/23, 0.1% /8–/15.
    static func syntheticIPv4Prefixes(count: Int, seed: UInt64) -> [IPPrefix] {
        var rng = SeededGenerator(seed: seed)
        var result: [IPPrefix] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let roll = Int.random(in: 0..<1000, using: &rng)
            let length: UInt8
            switch roll {
            case 0..<600: length = 32
            case 600..<800: length = 24
            case 800..<900: length = UInt8.random(in: 25...31, using: &rng)
            case 900..<999: length = UInt8.random(in: 16...23, using: &rng)
            default: length = UInt8.random(in: 8...15, using: &rng)
            }
            result.append(IPPrefix(.v4(IPv4Address(UInt32.random(in: 0...UInt32.max, using: &rng))), length: length))
        }
        return result
    }

    /// A plain-format list of `count` lines: 85% IPv4 hosts, 5% IPv4 prefixes (/16–/31),
    /// 10% IPv6 hosts in 2000::/3.
    static func syntheticListText(count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        var text: [UInt8] = []
        text.reserveCapacity(count * 18)
        for _ in 0..<count {
            let roll = Int.random(in: 0..<100, using: &rng)
            let line: String
            if roll < 85 {
                line = IPv4Address(UInt32.random(in: 0...UInt32.max, using: &rng)).description
            } else if roll < 90 {
                let address = IPv4Address(UInt32.random(in: 0...UInt32.max, using: &rng))
                line = "\(address)/\(Int.random(in: 16...31, using: &rng))"
            } else {
                let high = (rng.next() & 0x1FFF_FFFF_FFFF_FFFF) | 0x2000_0000_0000_0000
                line = IPv6Address(high: high, low: rng.next()).description
            }
            text.append(contentsOf: line.utf8)
            text.append(UInt8(ascii: "\n"))
        }
        return text
    }

    /// `count` IPv4 probes (host order): a `listedShare` of them inside listed entries
    /// (hosts or prefixes, picked at random), the rest uniformly random addresses.
    static func ipv4Probes(for entries: [IPPrefix], count: Int, listedShare: Double, seed: UInt64) -> [UInt32] {
        var rng = SeededGenerator(seed: seed)
        let listed: [(address: UInt32, length: UInt8)] = entries.compactMap { entry in
            if case .v4(let address) = entry.address { return (address.value, entry.length) }
            return nil
        }
        return (0..<count).map { _ in
            let random = UInt32.random(in: 0...UInt32.max, using: &rng)
            guard !listed.isEmpty, Double.random(in: 0..<1, using: &rng) < listedShare else { return random }
            let entry = listed[Int.random(in: 0..<listed.count, using: &rng)]
            let hostMask: UInt32 = entry.length >= 32 ? 0 : UInt32.max >> entry.length
            return entry.address | (random & hostMask)
        }
    }

    /// `count` IPv6 probes as (high, low): a `listedShare` of them listed hosts, the rest
    /// random addresses in 2000::/3.
    static func ipv6Probes(for entries: [IPPrefix], count: Int, listedShare: Double, seed: UInt64)
        -> (high: [UInt64], low: [UInt64])
    {
        var rng = SeededGenerator(seed: seed)
        let listed: [IPv6Address] = entries.compactMap { entry in
            if case .v6(let address) = entry.address, entry.length == 128 { return address }
            return nil
        }
        var high: [UInt64] = []
        var low: [UInt64] = []
        high.reserveCapacity(count)
        low.reserveCapacity(count)
        for _ in 0..<count {
            if !listed.isEmpty, Double.random(in: 0..<1, using: &rng) < listedShare {
                let address = listed[Int.random(in: 0..<listed.count, using: &rng)]
                high.append(address.high)
                low.append(address.low)
            } else {
                high.append((rng.next() & 0x1FFF_FFFF_FFFF_FFFF) | 0x2000_0000_0000_0000)
                low.append(rng.next())
            }
        }
        return (high, low)
    }
}
