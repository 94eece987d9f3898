/// A network of a kernel set (an ipset `hash:net` entry, an nf_tables interval): an address
/// and how many of its leading bits count.
public struct SetPrefix: Sendable, Hashable {
    public var address: SetAddress
    public var length: Int

    public init(address: SetAddress, length: Int) {
        self.address = address
        self.length = length
    }

    /// The first address of the prefix.
    public var first: SetAddress { address.network(length: length) }
    /// The last address of the prefix.
    public var last: SetAddress { address.lastAddress(length: length) }
}
