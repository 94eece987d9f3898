import ExitSet

/// The include file for BIRD 2: static protocols holding the feed's routes, one per family,
/// included at the top level of bird.conf (`include "/var/lib/exitblock/bird-routes.conf";`).
///
/// RTBH: `route 192.0.2.7/32 blackhole { bgp_community.add((65535,666)); };` in protocols
/// `<name>4` (ipv4) and `<name>6` (ipv6). FlowSpec: `route flow4 { src 192.0.2.7/32; }
/// { bgp_ext_community.add((generic, 0x80060000, 0)); };` (traffic-rate 0: discard) in `<name>4`
/// (flow4) and `<name>6` (flow6), into the tables `flowTables` names. BIRD's static protocol
/// reconfigures incrementally: only the routes that changed are announced or withdrawn.
public struct BIRDStaticConfig: Sendable {
    public var settings: RouteSettings
    /// The protocols' name prefix ("exitblock": protocols exitblock4 and exitblock6).
    public var protocolName: String
    /// The flow4 and flow6 tables the FlowSpec protocols feed (they must be declared in
    /// bird.conf); nil uses BIRD's default tables (master4/master6 do not take flow routes,
    /// so a FlowSpec setup names them).
    public var flowTables: (ipv4: String, ipv6: String)?

    public init(settings: RouteSettings, protocolName: String = "exitblock", flowTables: (String, String)? = nil) {
        self.settings = settings
        self.protocolName = protocolName
        self.flowTables = flowTables.map { (ipv4: $0.0, ipv6: $0.1) }
    }

    /// The whole file for `routes`.
    public func text(for routes: [IPPrefix]) -> String {
        let ipv4 = routes.filter { if case .v4 = $0.address { true } else { false } }
        let ipv6 = routes.filter { if case .v6 = $0.address { true } else { false } }
        var out =
            "# Written by exitblock bgp; replaced on every change. \(ipv4.count) IPv4, \(ipv6.count) IPv6 routes.\n"
        out += block(family: 4, routes: ipv4)
        out += block(family: 6, routes: ipv6)
        return out
    }

    private func block(family: Int, routes: [IPPrefix]) -> String {
        var out = "protocol static \(protocolName)\(family) {\n"
        switch settings.style {
        case .rtbh:
            out += "    ipv\(family);\n"
        case .flowspec:
            let table = family == 4 ? flowTables?.ipv4 : flowTables?.ipv6
            out += "    flow\(family)" + (table.map { " { table \($0); }" } ?? "") + ";\n"
        }
        for route in routes { out += "    " + line(route, family: family) + "\n" }
        return out + "}\n"
    }

    private func line(_ route: IPPrefix, family: Int) -> String {
        switch settings.style {
        case .rtbh:
            let communities = settings.communities.map { "bgp_community.add((\($0.high),\($0.low)));" }
            return "route \(route.cidr) blackhole"
                + (communities.isEmpty ? "" : " { " + communities.joined(separator: " ") + " }")
                + ";"
        case .flowspec:
            return "route flow\(family) { src \(route.cidr); } { bgp_ext_community.add((generic, 0x80060000, 0)); };"
        }
    }
}
