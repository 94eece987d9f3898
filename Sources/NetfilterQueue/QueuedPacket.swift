/// An IPv6 address as two host-order words, first eight bytes in `high`.
public struct IPv6Words: Sendable, Hashable {
    public var high: UInt64
    public var low: UInt64
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}

/// Why a queued packet's network header could not be read.
public enum UnparsableReason: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The netlink message carried no payload attribute.
    case noPayload
    /// Fewer bytes than the fixed IPv4 (20) or IPv6 (40) header.
    case truncated
    /// The version nibble is neither 4 nor 6.
    case notIP
    /// The netlink message itself was malformed (bad attribute lengths).
    case badMessage

    public var description: String {
        switch self {
        case .noPayload: return "no payload"
        case .truncated: return "truncated header"
        case .notIP: return "not IPv4 or IPv6"
        case .badMessage: return "malformed netlink message"
        }
    }
}

/// The addresses of a packet's network header, copied out of the kernel's message.
public enum NetworkHeader: Sendable, Hashable {
    case ipv4(source: UInt32, destination: UInt32)
    case ipv6(source: IPv6Words, destination: IPv6Words)
    case unparsable(UnparsableReason)

    /// Reads the fixed IPv4 or IPv6 header at the start of `bytes` (network byte order on the
    /// wire, host order in the result). Checks the length before every read.
    public init(bytes: some Collection<UInt8>) {
        var copy = ContiguousArray(bytes)
        self = copy.withUnsafeMutableBytes { NetworkHeader(parsing: UnsafeRawBufferPointer($0)) }
    }

    /// The same parse over raw bytes; used on the receive path.
    @inline(__always)
    init(parsing bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else {
            self = .unparsable(.truncated)
            return
        }
        switch first >> 4 {
        case 4:
            guard bytes.count >= 20 else {
                self = .unparsable(.truncated)
                return
            }
            self = .ipv4(
                source: UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self)),
                destination: UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
            )
        case 6:
            guard bytes.count >= 40 else {
                self = .unparsable(.truncated)
                return
            }
            self = .ipv6(
                source: IPv6Words(
                    high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                    low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
                ),
                destination: IPv6Words(
                    high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)),
                    low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
                )
            )
        default:
            self = .unparsable(.notIP)
        }
    }
}

/// One packet handed to us by the kernel: its id (needed for the verdict), the L3 protocol,
/// and its header addresses. A plain value: nothing in it points into receive buffers.
///
/// The stored properties are declared widest first and the length is kept in 32 bits, so the
/// value is 56 bytes: the queue worker copies one per packet, and at 72 bytes (the
/// declaration order of the fields) every copy was a call to `memcpy`.
public struct QueuedPacket: Sendable, Hashable {
    /// The network header's addresses, or why they could not be read.
    public var header: NetworkHeader
    /// The netfilter hook the packet was queued from (0 PREROUTING ... 4 POSTROUTING).
    public var hook: UInt8
    /// The link-layer protocol from NFQA_PACKET_HDR (0x0800 IPv4, 0x86DD IPv6).
    public var hardwareProtocol: UInt16
    /// The kernel's packet id for this queue; the verdict names it.
    public var id: UInt32
    /// The packet's mark (NFQA_MARK; the kernel sends it only when it is not 0). A packet
    /// answered with a mark (NF_REPEAT, or NF_ACCEPT and a later queue rule) comes back with
    /// that mark if it is queued again.
    public var mark: UInt32
    private var storedLength: UInt32
    /// The TCP or UDP ports, when they are inside the copied bytes.
    public var ports: TransportPorts

    /// Length of the original packet (NFQA_CAP_LEN when the copy was truncated, else the
    /// payload length); an IP packet's length fits in 32 bits.
    public var length: Int {
        get { Int(storedLength) }
        set { storedLength = UInt32(clamping: newValue) }
    }

    public init(
        id: UInt32,
        hardwareProtocol: UInt16 = 0,
        hook: UInt8 = 0,
        header: NetworkHeader,
        length: Int = 0,
        mark: UInt32 = 0,
        ports: TransportPorts = .none
    ) {
        self.header = header
        self.hook = hook
        self.hardwareProtocol = hardwareProtocol
        self.id = id
        self.mark = mark
        self.storedLength = UInt32(clamping: length)
        self.ports = ports
    }
}
