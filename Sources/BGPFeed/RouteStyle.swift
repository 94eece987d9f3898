/// How a listed prefix is put to the routers.
public enum RouteStyle: String, Sendable, CaseIterable, Codable {
    /// FlowSpec (RFC 8955/8956): match the source prefix, then discard (traffic-rate 0).
    /// Drops only traffic from the prefix; routers need FlowSpec support and spend TCAM on it.
    case flowspec
    /// Source-based remote triggered black hole (RFC 5635): a route to the prefix with a
    /// discard next hop and the BLACKHOLE community; routers with uRPF (loose) drop every
    /// packet from it.
    case rtbh
}
