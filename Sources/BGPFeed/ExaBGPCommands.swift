import ExitSet

/// The text commands of ExaBGP 4's API for the feed's routes, one line each, as an API process
/// writes them on its stdout:
///
///     announce route 192.0.2.7/32 next-hop 192.0.2.1 community [65535:666]
///     announce flow route { match { source 192.0.2.7/32; } then { discard; } }
///     withdraw flow route { match { source 2001:db8::7/128; } then { discard; } }
///
/// (IPv6 FlowSpec source prefixes take ExaBGP's `/length` form with offset 0 implied.)
public struct ExaBGPCommands: Sendable {
    public var settings: RouteSettings

    public init(settings: RouteSettings) {
        self.settings = settings
    }

    /// The lines taking the speaker through `delta`: withdrawals first, then announcements.
    public func lines(for delta: RouteDelta) -> [String] {
        delta.withdraw.map(withdraw) + delta.announce.map(announce)
    }

    public func announce(_ prefix: IPPrefix) -> String {
        switch settings.style {
        case .flowspec:
            return "announce flow route { match { source \(prefix.cidr); } then { discard; } }"
        case .rtbh:
            var line = "announce route \(prefix.cidr) next-hop \(settings.nextHop(for: prefix))"
            if !settings.communities.isEmpty {
                line += " community [" + settings.communities.map(\.description).joined(separator: " ") + "]"
            }
            return line
        }
    }

    public func withdraw(_ prefix: IPPrefix) -> String {
        switch settings.style {
        case .flowspec:
            return "withdraw flow route { match { source \(prefix.cidr); } then { discard; } }"
        case .rtbh:
            return "withdraw route \(prefix.cidr) next-hop \(settings.nextHop(for: prefix))"
        }
    }
}
