import ExitSet
import Synchronization

/// The listed addresses one worker saw most, with their packet counts: a fixed table of
/// `capacity` slots (6 KiB), never resized, so memory stays bounded whatever the traffic.
///
/// Writing (the worker only): `beginUpdate`, any number of `add`, `endUpdate`; the worker
/// opens one update per burst that has listed packets. An `add` hashes the address and looks
/// at `window` consecutive slots: it adds to the address's slot, or takes a free one, or
/// replaces the slot with the fewest packets in the window (the newcomer starts at its own
/// count). No allocation, no lock, no locked instruction: relaxed stores inside a sequence
/// lock (odd while an update is open).
///
/// Counts are exact for an address as long as it was never replaced; a replaced address that
/// comes back starts again from 0, so every count is a lower bound of the address's packets.
/// An address sending many packets keeps its slot, since only the smallest slot of a window
/// is replaced.
///
/// Reading (any thread): `entries()` copies the table and retries when an update overlapped
/// the copy; it never makes the worker wait.
public final class TopListedTable: Sendable {
    /// One address and its packets.
    public struct Entry: Sendable, Hashable, Codable {
        public var address: String
        public var packets: UInt64

        public init(address: String, packets: UInt64) {
            self.address = address
            self.packets = packets
        }
    }

    /// Slots in the table (a power of two; the storage below is sized with the same literal).
    public static let capacity = 256
    /// Slots looked at per address.
    public static let window = 8
    /// Bits of the hash kept: log2(capacity).
    private static let hashShift: UInt64 = 64 - 8

    private let sequence = Atomic<UInt64>(0)
    /// Key words: IPv6 high/low, or for IPv4 the IPv4-mapped form (0, 0xffff_xxxxxxxx).
    private let highs: InlineArray<256, Atomic<UInt64>> = InlineArray { _ in Atomic(0) }
    private let lows: InlineArray<256, Atomic<UInt64>> = InlineArray { _ in Atomic(0) }
    /// Packets per slot; 0 means free (slots never become free again).
    private let counts: InlineArray<256, Atomic<UInt64>> = InlineArray { _ in Atomic(0) }

    public init() {}

    /// The IPv4-mapped key of an IPv4 address (IPv4-mapped addresses never appear as packet
    /// addresses, so keys of the two families cannot collide).
    @inline(__always)
    static func key(ipv4 address: UInt32) -> (high: UInt64, low: UInt64) {
        (0, 0x0000_ffff_0000_0000 | UInt64(address))
    }

    /// Opens an update. Single writer.
    @inline(__always)
    func beginUpdate() {
        sequence.store(sequence.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        // Orders the odd sequence before every slot store that follows.
        atomicMemoryFence(ordering: .releasing)
    }

    /// Closes the update: readers that overlapped it retry.
    @inline(__always)
    func endUpdate() {
        sequence.store(sequence.load(ordering: .relaxed) &+ 1, ordering: .releasing)
    }

    /// Adds `packets` to the address `(high, low)`. Call between `beginUpdate` and
    /// `endUpdate`. Cost: one multiply and at most `window` slot reads, one or three stores.
    @inline(__always)
    func add(high: UInt64, low: UInt64, packets: UInt64 = 1) {
        let mixed = (low &* 0x9E37_79B9_7F4A_7C15) ^ (high &* 0xC2B2_AE3D_27D4_EB4F)
        let start = Int(truncatingIfNeeded: mixed >> Self.hashShift)
        var victim = start
        var victimCount = UInt64.max
        for step in 0..<Self.window {
            let slot = (start &+ step) & (Self.capacity - 1)
            let count = counts[slot].load(ordering: .relaxed)
            if count == 0 {
                store(slot, high, low, packets)
                return
            }
            if lows[slot].load(ordering: .relaxed) == low && highs[slot].load(ordering: .relaxed) == high {
                counts[slot].store(count &+ packets, ordering: .relaxed)
                return
            }
            if count < victimCount {
                victim = slot
                victimCount = count
            }
        }
        store(victim, high, low, packets)
    }

    @inline(__always)
    private func store(_ slot: Int, _ high: UInt64, _ low: UInt64, _ packets: UInt64) {
        highs[slot].store(high, ordering: .relaxed)
        lows[slot].store(low, ordering: .relaxed)
        counts[slot].store(packets, ordering: .relaxed)
    }

    /// The occupied slots as (high, low, packets), read consistently: retried while an update
    /// overlaps the copy. Workers update once per burst, with a receive call between updates,
    /// so a retry is rare; should 100 tries all overlap (a writer that never pauses), the last
    /// copy is returned as it is, and a slot replaced during it may pair an address with
    /// another's count.
    func slots() -> [(high: UInt64, low: UInt64, packets: UInt64)] {
        var copy: [(high: UInt64, low: UInt64, packets: UInt64)] = []
        copy.reserveCapacity(Self.capacity)
        for attempt in 0..<100 {
            copy.removeAll(keepingCapacity: true)
            let before = sequence.load(ordering: .acquiring)
            if before & 1 == 1 && attempt < 99 { continue }
            for slot in 0..<Self.capacity {
                let count = counts[slot].load(ordering: .relaxed)
                if count == 0 { continue }
                copy.append((highs[slot].load(ordering: .relaxed), lows[slot].load(ordering: .relaxed), count))
            }
            // Orders the slot loads before the second sequence load.
            atomicMemoryFence(ordering: .acquiring)
            if sequence.load(ordering: .relaxed) == before { break }
        }
        return copy
    }

    /// The `limit` addresses with the most packets over `tables` (summed per address), most
    /// packets first, ties in address order. Off the hot path: allocates.
    public static func top(_ tables: [TopListedTable], limit: Int) -> [Entry] {
        var sums: [IPAddress: UInt64] = [:]
        for table in tables {
            for slot in table.slots() {
                sums[address(high: slot.high, low: slot.low), default: 0] &+= slot.packets
            }
        }
        let sorted = sums.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        return sorted.prefix(max(0, limit)).map { Entry(address: $0.key.description, packets: $0.value) }
    }

    /// The address a key stands for.
    static func address(high: UInt64, low: UInt64) -> IPAddress {
        if high == 0 && low >> 32 == 0xffff {
            return .v4(IPv4Address(UInt32(truncatingIfNeeded: low)))
        }
        return .v6(IPv6Address(high: high, low: low))
    }
}
