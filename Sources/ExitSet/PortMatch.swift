/// What a port-aware lookup of the exit set found (`ExitSet.match(ipv4:port:)`).
@frozen
public enum PortMatch: UInt8, Sendable {
    /// The address is not listed.
    case notListed
    /// The address is listed and its policy covers the port (or it carries no policy).
    case listed
    /// The address is listed, but the policy of every entry holding it leaves the port out:
    /// the packet cannot be Tor traffic of that exit.
    case outsidePolicy
}
