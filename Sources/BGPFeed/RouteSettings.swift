import ExitSet

/// What the routes say besides their prefix: the style, the next hop of each family (RTBH) and
/// the communities. One value, built once from the command line and passed down.
public struct RouteSettings: Sendable, Equatable {
    public var style: RouteStyle
    /// The next hop of IPv4 RTBH routes: an address every router sends to a discard interface
    /// (RFC 5635; 192.0.2.1 by default).
    public var nextHopIPv4: IPAddress
    /// The next hop of IPv6 RTBH routes (100::1, in the discard-only prefix of RFC 6666, by default).
    public var nextHopIPv6: IPAddress
    /// Standard communities ("65535:666", the BLACKHOLE community of RFC 7999).
    public var communities: [Community]
    /// Merge adjacent and nested prefixes into fewer routes (same coverage).
    public var aggregate: Bool

    public init(
        style: RouteStyle = .rtbh,
        nextHopIPv4: IPAddress = IPAddress("192.0.2.1")!,
        nextHopIPv6: IPAddress = IPAddress("100::1")!,
        communities: [Community] = [.blackhole],
        aggregate: Bool = true
    ) {
        self.style = style
        self.nextHopIPv4 = nextHopIPv4
        self.nextHopIPv6 = nextHopIPv6
        self.communities = communities
        self.aggregate = aggregate
    }

    /// The next hop of a route to `prefix`.
    public func nextHop(for prefix: IPPrefix) -> IPAddress {
        if case .v4 = prefix.address { return nextHopIPv4 }
        return nextHopIPv6
    }
}

/// A standard BGP community (RFC 1997), two 16-bit halves.
public struct Community: Sendable, Hashable, CustomStringConvertible {
    public var high: UInt16
    public var low: UInt16

    public init(_ high: UInt16, _ low: UInt16) {
        self.high = high
        self.low = low
    }

    /// Parses "65535:666"; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let high = UInt16(parts[0]), let low = UInt16(parts[1]) else { return nil }
        self.init(high, low)
    }

    /// BLACKHOLE, RFC 7999.
    public static let blackhole = Community(65535, 666)

    public var description: String { "\(high):\(low)" }
}
