import ExitSet

/// Turns the listed prefixes into the routes to announce: the addresses they cover, minus the
/// allowlisted ones, written as few prefixes as cover exactly those addresses. Pure.
///
/// Each family is handled as sorted, disjoint ranges of integers (IPv4 in 32 bits, IPv6 in
/// 128): the listed prefixes are merged, the allowlisted ranges cut out, and each remaining
/// range is split into the largest aligned blocks that fit. The result covers the same
/// addresses as `listed − allowlisted`, no two routes overlap, and with `aggregate` no two
/// routes are siblings that one shorter prefix could replace.
public enum RouteAggregator {
    /// The routes for `listed` without `allowlisted`, sorted (IPv4 first).
    ///
    /// With `aggregate` false every listed prefix stays as listed (duplicates dropped) unless
    /// the allowlist cuts into it, in which case only its remainder is announced, split as
    /// little as the allowlist forces; for peers that take host routes or fixed lengths only.
    public static func routes(
        for listed: some Sequence<IPPrefix>,
        excluding allowlisted: some Sequence<IPPrefix>,
        aggregate: Bool = true
    ) -> [IPPrefix] {
        let allowed4 = merge(allowlisted.compactMap(range4))
        let allowed6 = merge(allowlisted.compactMap(range6))
        if aggregate {
            let ranges4 = subtract(merge(listed.compactMap(range4)), allowed4)
            let ranges6 = subtract(merge(listed.compactMap(range6)), allowed6)
            return ranges4.flatMap { blocks($0, width: 32) } + ranges6.flatMap { blocks($0, width: 128) }
        }
        var routes: Set<IPPrefix> = []
        for prefix in Set(listed) {
            if let range = range4(prefix) {
                routes.formUnion(subtract([range], allowed4).flatMap { blocks($0, width: 32) })
            } else if let range = range6(prefix) {
                routes.formUnion(subtract([range], allowed6).flatMap { blocks($0, width: 128) })
            }
        }
        return routes.sorted()
    }

    /// A closed range of addresses of one family, as integers.
    struct Span: Equatable {
        var low: UInt128
        var high: UInt128
    }

    static func range4(_ prefix: IPPrefix) -> Span? {
        guard case .v4(let address) = prefix.address else { return nil }
        let low = UInt128(address.value)
        let size = UInt128(1) << (32 - Int(prefix.length))
        return Span(low: low, high: low + size - 1)
    }

    static func range6(_ prefix: IPPrefix) -> Span? {
        guard case .v6(let address) = prefix.address else { return nil }
        let low = UInt128(address.high) << 64 | UInt128(address.low)
        let hostBits = 128 - Int(prefix.length)
        let hostMask: UInt128 = hostBits == 128 ? .max : (UInt128(1) << hostBits) - 1
        return Span(low: low, high: low | hostMask)
    }

    /// Sorted, disjoint ranges with touching ones joined.
    static func merge(_ spans: [Span]) -> [Span] {
        var merged: [Span] = []
        for span in spans.sorted(by: { $0.low < $1.low }) {
            if let last = merged.last, last.high == .max || span.low <= last.high + 1 {
                merged[merged.count - 1].high = max(last.high, span.high)
            } else {
                merged.append(span)
            }
        }
        return merged
    }

    /// `spans` without the addresses in `holes` (both sorted and disjoint).
    static func subtract(_ spans: [Span], _ holes: [Span]) -> [Span] {
        guard !holes.isEmpty else { return spans }
        var result: [Span] = []
        for span in spans {
            var low = span.low
            var done = false
            for hole in holes where hole.high >= low && hole.low <= span.high {
                if hole.low > low { result.append(Span(low: low, high: hole.low - 1)) }
                if hole.high >= span.high {
                    done = true
                    break
                }
                low = hole.high + 1
            }
            if !done { result.append(Span(low: low, high: span.high)) }
        }
        return result
    }

    /// The fewest aligned blocks covering exactly `span`, in address order.
    static func blocks(_ span: Span, width: Int) -> [IPPrefix] {
        var prefixes: [IPPrefix] = []
        var low = span.low
        while true {
            let alignment = low == 0 ? width : min(width, low.trailingZeroBitCount)
            let remaining = span.high - low  // addresses left, minus one
            let fitting = remaining == .max ? 128 : 127 - (remaining + 1).leadingZeroBitCount
            let bits = min(alignment, fitting)
            prefixes.append(prefix(low, bits: bits, width: width))
            let size: UInt128 = bits == 128 ? .max : UInt128(1) << bits
            guard bits < 128, span.high - low >= size else { break }
            low += size
        }
        return prefixes
    }

    private static func prefix(_ low: UInt128, bits: Int, width: Int) -> IPPrefix {
        let length = UInt8(width - bits)
        if width == 32 { return IPPrefix(.v4(IPv4Address(UInt32(low))), length: length) }
        return IPPrefix(
            .v6(IPv6Address(high: UInt64(low >> 64), low: UInt64(low & UInt128(UInt64.max)))),
            length: length
        )
    }
}
