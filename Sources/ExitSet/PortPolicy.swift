/// The ports a Tor exit carries traffic to, for one address family: dir-spec's exit policy
/// summary (`accept 80,443`, `reject 25,119`) read as the set of accepted ports.
///
/// A policy is immutable and shared: parsers intern them (`PortPolicyInterner`), so the
/// thousands of relays of a consensus point at a few hundred policies, and an `ExitSet`
/// stores one small index per address. The summary grammar (dir-spec, "p" lines):
/// `accept|reject PortList`, where PortList is `N` or `N-M` items separated by commas, in
/// ascending order, ports 1–65535. A summary ignores rejects of private netblocks, so it
/// speaks of the public Internet; `accept 1-65535` is `all` and `reject 1-65535` is `none`.
/// Port 0 is carried only by `all` (the "judge the address alone" case).
public final class PortPolicy: Sendable, Hashable, CustomStringConvertible {
    /// The accepted ports: sorted, disjoint, not adjacent, inside 1...65535.
    public let ranges: [ClosedRange<UInt16>]

    /// Every port: the policy of formats that carry none.
    public static let all = PortPolicy(normalized: [1...65535])
    /// No port.
    public static let none = PortPolicy(normalized: [])

    /// A policy accepting `ranges` (any order, overlaps allowed; port 0 is dropped).
    public convenience init(accepting ranges: [ClosedRange<UInt16>]) {
        self.init(normalized: PortPolicy.normalize(ranges))
    }

    private init(normalized: [ClosedRange<UInt16>]) {
        self.ranges = normalized
    }

    /// Whether every port 1–65535 is accepted.
    public var isAll: Bool { ranges == [1...65535] }

    /// Whether `port` is accepted. Port 0 only by `all`. Cost: a binary search (not the hot
    /// path: `ExitSet` answers from a bitmap).
    public func accepts(_ port: UInt16) -> Bool {
        if isAll { return true }
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < port {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low < ranges.count && ranges[low].contains(port)
    }

    /// The ports either policy accepts.
    public func union(_ other: PortPolicy) -> PortPolicy {
        if self === other || other.ranges.isEmpty || isAll { return self }
        if ranges.isEmpty || other.isAll { return other }
        return PortPolicy(normalized: PortPolicy.normalize(ranges + other.ranges))
    }

    /// The summary in dir-spec's form: the shorter of the accept and the reject list
    /// (accept on a tie), `accept 1-65535` for all and `reject 1-65535` for none.
    public var summary: String {
        if isAll { return "accept 1-65535" }
        if ranges.isEmpty { return "reject 1-65535" }
        let accepted = PortPolicy.text(ranges)
        let rejected = PortPolicy.text(complement)
        return rejected.count < accepted.count ? "reject " + rejected : "accept " + accepted
    }

    public var description: String { summary }

    /// The ports 1–65535 not accepted, as sorted disjoint ranges.
    public var complement: [ClosedRange<UInt16>] {
        var result: [ClosedRange<UInt16>] = []
        var next: UInt32 = 1
        for range in ranges {
            if UInt32(range.lowerBound) > next { result.append(UInt16(next)...(range.lowerBound - 1)) }
            next = UInt32(range.upperBound) + 1
        }
        if next <= 65535 { result.append(UInt16(next)...65535) }
        return result
    }

    public static func == (lhs: PortPolicy, rhs: PortPolicy) -> Bool {
        lhs === rhs || lhs.ranges == rhs.ranges
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ranges)
    }

    /// The policies of the union of several lists: an address gets the union of its policies
    /// in every list holding it, and a list holding it without a policy makes it all ports.
    /// Cost: nothing when no list has policies; else a hash lookup per entry of every list.
    public static func merge(_ parts: [(entries: [IPPrefix], policies: [IPPrefix: PortPolicy])]) -> [IPPrefix:
        PortPolicy]
    {
        let withPolicies = parts.filter { !$0.policies.isEmpty }
        if withPolicies.isEmpty { return [:] }
        if parts.count == 1 { return parts[0].policies }
        var interner = PortPolicyInterner()
        var merged: [IPPrefix: PortPolicy] = [:]
        for part in withPolicies {
            for (prefix, policy) in part.policies {
                let shared = interner.intern(policy)
                merged[prefix] = merged[prefix].map { interner.union($0, shared) } ?? shared
            }
        }
        for part in parts {
            for entry in part.entries where part.policies[entry] == nil && merged[entry] != nil {
                merged[entry] = nil  // all ports
            }
        }
        return merged
    }

    // MARK: Parsing

    /// Parses a summary (`accept 80,443`, `reject 1-1024`): the keyword, one run of spaces,
    /// the PortList. Nil when it breaks the grammar (unknown keyword, port 0 or over 65535,
    /// `N-M` with M < N, items out of ascending order, empty items).
    public static func parse(summary text: some StringProtocol) -> PortPolicy? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            guard let space = buffer.firstIndex(of: 0x20) else { return nil }
            var start = space
            while start < buffer.count && buffer[start] == 0x20 { start += 1 }
            return parse(
                keyword: ASCII.slice(buffer, 0..<space),
                portList: ASCII.slice(buffer, start..<buffer.count)
            )
        }
    }

    /// Parses a summary from its keyword (`accept`/`reject`) and its PortList.
    static func parse(keyword: UnsafeBufferPointer<UInt8>, portList: UnsafeBufferPointer<UInt8>) -> PortPolicy? {
        let isAccept: Bool
        if ASCII.equals(keyword, 0..<keyword.count, "accept") {
            isAccept = true
        } else if ASCII.equals(keyword, 0..<keyword.count, "reject") {
            isAccept = false
        } else {
            return nil
        }
        guard let listed = parsePortList(portList) else { return nil }
        return PortPolicy(listed: listed, accept: isAccept)
    }

    /// The policy accepting `listed` ports (`accept`) or every port but those (`reject`);
    /// `listed` is already in PortList order.
    convenience init(listed: [ClosedRange<UInt16>], accept: Bool) {
        let normalized = PortPolicy.normalize(listed)
        if accept {
            self.init(normalized: normalized)
        } else {
            self.init(normalized: PortPolicy(normalized: normalized).complement)
        }
    }

    /// A PortList (`22,80-88,443`): items in ascending order, each `N` or `N-M` with
    /// 1 <= N <= M <= 65535. Nil when the list breaks that.
    static func parsePortList(_ bytes: UnsafeBufferPointer<UInt8>) -> [ClosedRange<UInt16>]? {
        var result: [ClosedRange<UInt16>] = []
        var index = 0
        var previousUpper: UInt32 = 0
        while true {
            guard let low = number(bytes, &index) else { return nil }
            var high = low
            if index < bytes.count && bytes[index] == 0x2D {  // '-'
                index += 1
                guard let upper = number(bytes, &index) else { return nil }
                high = upper
            }
            guard low >= 1, high >= low, low > previousUpper else { return nil }
            result.append(UInt16(low)...UInt16(high))
            previousUpper = high
            if index == bytes.count { return result }
            guard bytes[index] == 0x2C else { return nil }  // ','
            index += 1
        }
    }

    /// A decimal port (1 to 5 digits, at most 65535) at `index`, which it moves past.
    private static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> UInt32? {
        var value: UInt32 = 0
        var digits = 0
        while index < bytes.count, let digit = ASCII.decimalValue(bytes[index]) {
            value = value * 10 + UInt32(digit)
            digits += 1
            index += 1
            guard digits <= 5 else { return nil }
        }
        guard digits > 0, value <= 65535 else { return nil }
        return value
    }

    /// Sorted, merged (overlapping and adjacent ranges joined), port 0 dropped.
    static func normalize(_ ranges: [ClosedRange<UInt16>]) -> [ClosedRange<UInt16>] {
        var sorted = ranges.compactMap { range -> ClosedRange<UInt16>? in
            if range.upperBound == 0 { return nil }
            return max(range.lowerBound, 1)...range.upperBound
        }
        sorted.sort { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt16>] = []
        merged.reserveCapacity(sorted.count)
        for range in sorted {
            if let last = merged.last, UInt32(range.lowerBound) <= UInt32(last.upperBound) + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// `80,443,1000-2000`.
    static func text(_ ranges: [ClosedRange<UInt16>]) -> String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }
}
