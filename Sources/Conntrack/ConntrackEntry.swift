import SystemPackage

/// The address family of conntrack entries (the nfgenmsg family of a ctnetlink request).
public enum ConntrackFamily: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ipv4
    case ipv6

    public var description: String { self == .ipv4 ? "IPv4" : "IPv6" }
}

/// An address of a conntrack tuple, in host byte order (`1.2.3.4` is `0x01020304`; an IPv6
/// address's first eight bytes are `high`), the form `ExitSet` looks addresses up in.
public enum ConntrackAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    case v6(high: UInt64, low: UInt64)

    public var family: ConntrackFamily {
        if case .v4 = self { return .ipv4 }
        return .ipv6
    }

    /// Dotted quad, or eight uncompressed hex groups (for logs of this module; the engine
    /// prints addresses in RFC 5952 form through ExitSet).
    public var description: String {
        switch self {
        case .v4(let value):
            return (0..<4).map { String((value >> (24 - 8 * UInt32($0))) & 0xff) }.joined(separator: ".")
        case .v6(let high, let low):
            let groups =
                (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64($0))) }
                + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64($0))) }
            return groups.map { String($0, radix: 16) }.joined(separator: ":")
        }
    }
}

/// One connection tracking entry as a dump lists it: its original-direction tuple (the
/// direction of the packet that created it), plus what identifies it for deletion.
public struct ConntrackEntry: Sendable, Hashable, CustomStringConvertible {
    /// ICMP / ICMPv6 echo identification: the "ports" of an ICMP tuple.
    public struct ICMPKey: Sendable, Hashable {
        public var id: UInt16
        public var type: UInt8
        public var code: UInt8

        public init(id: UInt16, type: UInt8, code: UInt8) {
            self.id = id
            self.type = type
            self.code = code
        }
    }

    /// Source address of the original direction.
    public var source: ConntrackAddress
    /// Destination address of the original direction.
    public var destination: ConntrackAddress
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...).
    public var protocolNumber: UInt8
    /// Ports (TCP, UDP, UDP-Lite, SCTP, DCCP; GRE keys), nil for protocols without them.
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    /// ICMP / ICMPv6 identification, nil for other protocols.
    public var icmp: ICMPKey?
    /// The kernel's id of the entry (CTA_ID). A deletion that names it removes this entry
    /// only, never a later one that reuses the tuple.
    public var id: UInt32?
    /// The conntrack zone (CTA_ZONE), nil for the default zone when the kernel omits it.
    public var zone: UInt16?

    public init(
        source: ConntrackAddress,
        destination: ConntrackAddress,
        protocolNumber: UInt8,
        sourcePort: UInt16? = nil,
        destinationPort: UInt16? = nil,
        icmp: ICMPKey? = nil,
        id: UInt32? = nil,
        zone: UInt16? = nil
    ) {
        self.source = source
        self.destination = destination
        self.protocolNumber = protocolNumber
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.icmp = icmp
        self.id = id
        self.zone = zone
    }

    public var family: ConntrackFamily { source.family }

    /// "tcp 192.0.2.2:40000 -> 192.0.2.18:5599".
    public var description: String {
        let name: String
        switch protocolNumber {
        case 6: name = "tcp"
        case 17: name = "udp"
        case 1: name = "icmp"
        case 58: name = "icmpv6"
        default: name = "proto \(protocolNumber)"
        }
        var text = "\(name) \(source)"
        if let sourcePort { text += ":\(sourcePort)" }
        text += " -> \(destination)"
        if let destinationPort { text += ":\(destinationPort)" }
        if let icmp { text += " (icmp id \(icmp.id) type \(icmp.type) code \(icmp.code))" }
        return text
    }
}

/// The result of a dump: the entries kept by the caller's filter and what was seen.
public struct ConntrackDump: Sendable, Equatable {
    /// Entries the filter kept.
    public var entries: [ConntrackEntry] = []
    /// Entries the kernel listed (kept or not).
    public var examined = 0
    /// Entry messages that could not be read (skipped).
    public var malformed = 0
    /// The kernel flagged the dump as interrupted (NLM_F_DUMP_INTR: the table changed while
    /// it was being walked, so an entry may be missing).
    public var interrupted = false

    public init() {}
}

/// The result of deleting entries.
public struct ConntrackDeletion: Sendable, Equatable {
    /// Entries the kernel deleted.
    public var deleted = 0
    /// Entries that were gone already (ENOENT: expired, or closed, in the meantime).
    public var alreadyGone = 0
    /// Deletions the kernel refused for another reason.
    public var failed = 0
    /// The errno of the last refusal.
    public var lastError: Errno?

    public init() {}
}
