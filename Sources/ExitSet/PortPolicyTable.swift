/// The port policies of an `ExitSet`, as two-level bitmaps for the hot path.
///
/// Policy 0 is `PortPolicy.all` and is never read (the caller tests for 0 first). Each other
/// policy is 256 block numbers (one per 256 ports); a block is 256 bits (four words). Blocks
/// are shared: block 0 is all zeros, block 1 all ones, and equal blocks of different policies
/// are stored once. Each policy takes 1 KiB of block numbers; the 208 port sets (besides all
/// ports) of the real consensus's exits share 645 blocks (20 KiB); flat bitmaps: 8 KiB each.
///
/// Memory is allocated in `init` and released by `deallocate()`, once, by the owning
/// `ExitSet`. Never written after `init` (`@unchecked Sendable`). Holds raw memory only (no
/// reference-counted field), so reading it on the hot path retains nothing.
@usableFromInline
struct PortPolicyTable: @unchecked Sendable {
    /// `256 * policies.count` block numbers.
    @usableFromInline let blockNumbers: UnsafeMutablePointer<UInt32>
    /// Four words per block.
    @usableFromInline let words: UnsafeMutablePointer<UInt64>
    /// The number of policies (index 0 is `PortPolicy.all`).
    let count: Int

    /// A table of `policies`; `policies[0]` must be `PortPolicy.all`.
    init(_ policies: [PortPolicy]) {
        precondition(policies.first?.isAll == true, "policy 0 must be 'all'")
        var blocks: [[UInt64]] = [[0, 0, 0, 0], [~0, ~0, ~0, ~0]]
        var blockIndex: [[UInt64]: UInt32] = [blocks[0]: 0, blocks[1]: 1]
        var numbers = [UInt32](repeating: 1, count: 256 * policies.count)
        for (index, policy) in policies.enumerated() where index > 0 {
            var bitmap = [UInt64](repeating: 0, count: 1024)
            for range in policy.ranges {
                PortPolicyTable.fill(&bitmap, Int(range.lowerBound), Int(range.upperBound))
            }
            for block in 0..<256 {
                let words = Array(bitmap[(block * 4)..<(block * 4 + 4)])
                let number: UInt32
                if let known = blockIndex[words] {
                    number = known
                } else {
                    number = UInt32(blocks.count)
                    blockIndex[words] = number
                    blocks.append(words)
                }
                numbers[index * 256 + block] = number
            }
        }
        blockNumbers = .allocate(capacity: numbers.count)
        blockNumbers.initialize(from: numbers, count: numbers.count)
        words = .allocate(capacity: blocks.count * 4)
        for (index, block) in blocks.enumerated() {
            (words + index * 4).initialize(from: block, count: 4)
        }
        self.count = policies.count
    }

    /// Sets the bits `low...high` of `bitmap`, a word at a time where it can.
    private static func fill(_ bitmap: inout [UInt64], _ low: Int, _ high: Int) {
        var port = low
        while port <= high {
            if port & 63 == 0 && high - port >= 63 {
                bitmap[port >> 6] = ~0
                port += 64
            } else {
                bitmap[port >> 6] |= 1 << UInt64(port & 63)
                port += 1
            }
        }
    }

    /// Releases the bitmaps. Call once, when no reader can still use the table.
    func deallocate() {
        blockNumbers.deallocate()
        words.deallocate()
    }

    /// Whether policy `index` (not 0) accepts `port`. Cost: two dependent reads, no
    /// allocation, no reference counting.
    @inlinable
    @inline(__always)
    func accepts(policy index: Int, port: UInt16) -> Bool {
        let block = Int(blockNumbers[index &<< 8 | Int(port &>> 8)])
        let word = words[block &<< 2 | Int((port &>> 6) & 3)]
        return (word &>> UInt64(port & 63)) & 1 != 0
    }
}
