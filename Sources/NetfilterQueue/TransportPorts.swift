/// The transport ports of a queued packet (TCP or UDP), read from the copied bytes after the
/// network header, or why there are none.
public struct TransportPorts: Sendable, Hashable {
    /// What the reader found.
    public enum Kind: UInt8, Sendable, Hashable {
        /// A TCP or UDP header inside the copied bytes: `source` and `destination` hold its ports.
        case ports
        /// Another protocol (ICMP, ESP, ...), or a packet whose network header was unreadable.
        case otherProtocol
        /// TCP or UDP (or an IPv6 chain of extension headers) whose ports are not inside the
        /// copied bytes: IPv4 options or IPv6 extension headers past the copy range, or a
        /// fragment other than the first.
        case unread
    }

    public var kind: Kind
    /// The IP protocol number (6 TCP, 17 UDP; the last next-header seen for IPv6).
    public var protocolNumber: UInt8
    public var source: UInt16
    public var destination: UInt16

    /// No ports: another protocol.
    public static let none = TransportPorts(kind: .otherProtocol, protocolNumber: 0, source: 0, destination: 0)

    public init(kind: Kind, protocolNumber: UInt8, source: UInt16, destination: UInt16) {
        self.kind = kind
        self.protocolNumber = protocolNumber
        self.source = source
        self.destination = destination
    }

    /// TCP or UDP ports.
    public static func ports(protocolNumber: UInt8, source: UInt16, destination: UInt16) -> TransportPorts {
        TransportPorts(kind: .ports, protocolNumber: protocolNumber, source: source, destination: destination)
    }

    /// Reads the ports of the IPv4 or IPv6 packet at the start of `bytes` (for tests and tools;
    /// the receive path uses the raw-buffer form).
    public init(bytes: some Collection<UInt8>) {
        let copy = ContiguousArray(bytes)
        self = copy.withUnsafeBytes { TransportPorts(parsing: $0) }
    }

    static let tcp: UInt8 = 6
    static let udp: UInt8 = 17

    /// Reads the ports with a length check before every read (network byte order on the wire,
    /// host order in the result). IPv4: the header length comes from IHL (options skipped when
    /// copied); a fragment with a non-zero offset has no transport header. IPv6: walks up to 8
    /// hop-by-hop, routing, destination-options, fragment and AH headers. Cost: a few byte
    /// reads, no allocation.
    @inline(__always)
    init(parsing bytes: UnsafeRawBufferPointer) {
        self = .none
        guard let first = bytes.first else { return }
        switch first >> 4 {
        case 4:
            guard bytes.count >= 20 else { return }
            let protocolNumber = bytes[9]
            guard protocolNumber == Self.tcp || protocolNumber == Self.udp else {
                self.protocolNumber = protocolNumber
                return
            }
            let fragmentOffset = (UInt16(bytes[6]) << 8 | UInt16(bytes[7])) & 0x1FFF
            let headerLength = Int(first & 0x0F) * 4
            self = Self.read(bytes, at: headerLength, protocolNumber: protocolNumber, usable: fragmentOffset == 0)
        case 6:
            guard bytes.count >= 40 else { return }
            var next = bytes[6]
            var offset = 40
            for _ in 0..<8 {
                switch next {
                case Self.tcp, Self.udp:
                    self = Self.read(bytes, at: offset, protocolNumber: next, usable: true)
                    return
                case 0, 43, 60:  // hop-by-hop, routing, destination options: (length + 1) * 8 bytes
                    guard bytes.count >= offset + 2 else { break }
                    next = bytes[offset]
                    offset += (Int(bytes[offset + 1]) + 1) * 8
                    continue
                case 51:  // AH: (length + 2) * 4 bytes
                    guard bytes.count >= offset + 2 else { break }
                    next = bytes[offset]
                    offset += (Int(bytes[offset + 1]) + 2) * 4
                    continue
                case 44:  // fragment: 8 bytes; only the first fragment has the transport header
                    guard bytes.count >= offset + 8 else { break }
                    let fragmentOffset = (UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3])) >> 3
                    guard fragmentOffset == 0 else { break }
                    next = bytes[offset]
                    offset += 8
                    continue
                default:
                    protocolNumber = next
                    return
                }
                // An extension header cut short, or a later fragment.
                self = TransportPorts(kind: .unread, protocolNumber: next, source: 0, destination: 0)
                return
            }
            self = TransportPorts(kind: .unread, protocolNumber: next, source: 0, destination: 0)
        default:
            return
        }
    }

    /// The two ports at `offset`, or `.unread` when they are not inside `bytes` (or `usable`
    /// is false, or `offset` is below a minimal header).
    @inline(__always)
    private static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int, protocolNumber: UInt8, usable: Bool)
        -> TransportPorts
    {
        guard usable, offset >= 20, bytes.count >= offset + 4 else {
            return TransportPorts(kind: .unread, protocolNumber: protocolNumber, source: 0, destination: 0)
        }
        return .ports(
            protocolNumber: protocolNumber,
            source: UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1]),
            destination: UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3])
        )
    }
}
