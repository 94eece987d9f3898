import ExitSet

extension IPPrefix {
    /// Always "address/length", hosts too ("192.0.2.7/32"): BGP speakers want the length,
    /// where `description` writes a host as a bare address.
    public var cidr: String { "\(address)/\(length)" }
}
