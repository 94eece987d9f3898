import ExitSet

/// Routes by family.
public struct RouteCount: Sendable, Equatable, CustomStringConvertible {
    public var ipv4: Int
    public var ipv6: Int

    public init(ipv4: Int = 0, ipv6: Int = 0) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }

    public init(_ routes: some Sequence<IPPrefix>) {
        var count = RouteCount()
        for route in routes {
            if case .v4 = route.address { count.ipv4 += 1 } else { count.ipv6 += 1 }
        }
        self = count
    }

    public var total: Int { ipv4 + ipv6 }

    /// "12 (10 IPv4, 2 IPv6)"
    public var description: String { "\(total) (\(ipv4) IPv4, \(ipv6) IPv6)" }
}
