/// What the kernel says of an ipset besides its entries (`ipset list -t`): its type and
/// family, the options it was created with, and how many rules name it.
public struct IpsetHeader: Sendable, Equatable {
    /// "hash:ip", "hash:net", ...
    public var typeName = ""
    public var revision: UInt8 = 0
    /// NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10).
    public var family: UInt8 = 0
    /// Seconds an entry lives by default (nil: the set has no timeout).
    public var timeout: UInt32?
    public var maxelem: UInt32?
    public var hashsize: UInt32?
    /// The set counts packets and bytes per entry.
    public var counters = false
    /// Rules (and list sets) naming the set.
    public var references: UInt32?
    /// Entries now.
    public var entries: UInt32?
    /// Bytes of kernel memory the set takes.
    public var memorySize: UInt32?

    public init() {}

    /// The family as `ipset` writes it.
    public var isIPv6: Bool { family == IpsetMessage.familyIPv6 }
}
