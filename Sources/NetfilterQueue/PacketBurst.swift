internal import CNetfilterQueue
import Netlink

#if canImport(Glibc)
    import Glibc
#endif

/// The receive side of one worker: `recvmmsg` headers, one buffer per datagram, and the
/// packets parsed out of the last burst. Allocated once, reused for every burst; no
/// allocation happens per packet or per burst. Not thread-safe: one per worker, which never
/// re-enters it, so its state is `@exclusivity(unchecked)` (the runtime's access checks cost
/// more per packet than the parse).
public final class PacketBurst {
    /// Datagrams one receive call can take.
    public let capacity: Int
    /// Bytes reserved for each datagram.
    let slotSize: Int

    private let buffers: UnsafeMutableRawPointer
    private let iovecs: UnsafeMutablePointer<iovec>
    let headers: UnsafeMutablePointer<cnfq_mmsghdr>
    private let packets: UnsafeMutablePointer<QueuedPacket>

    /// Packets parsed out of the last receive.
    @exclusivity(unchecked) public private(set) var count: Int = 0
    /// What the last parse met besides packets.
    @exclusivity(unchecked) var events = ParseEvents()
    /// Packets of the last parse beyond `capacity`, in order: the queue hands them out first
    /// next time, so that no later batch verdict can decide them. Empty unless a datagram
    /// held more packets than the kernel sends (one); allocates only then.
    @exclusivity(unchecked) private(set) var overflowed: [QueuedPacket] = []

    /// A burst sized for `configuration` (burst size, copy range).
    public convenience init(configuration: QueueConfiguration) {
        // Packet message = headers and metadata attributes (< 256 bytes) + copied payload.
        self.init(capacity: configuration.burstSize, slotSize: max(1024, configuration.copyRange + 512))
    }

    init(capacity: Int, slotSize: Int) {
        precondition(capacity > 0 && slotSize >= 64)
        self.capacity = capacity
        self.slotSize = slotSize
        buffers = UnsafeMutableRawPointer.allocate(byteCount: capacity * slotSize, alignment: 16)
        iovecs = .allocate(capacity: capacity)
        headers = .allocate(capacity: capacity)
        packets = .allocate(capacity: capacity)
        packets.initialize(repeating: QueuedPacket(id: 0, header: .unparsable(.noPayload)), count: capacity)
        for index in 0..<capacity {
            iovecs[index] = iovec(iov_base: buffers + index * slotSize, iov_len: slotSize)
            headers[index] = cnfq_mmsghdr(msg_hdr: msghdr(), msg_len: 0)
        }
        resetHeaders()
    }

    deinit {
        packets.deinitialize(count: capacity)
        packets.deallocate()
        headers.deallocate()
        iovecs.deallocate()
        buffers.deallocate()
    }

    /// The packet at `index` of the last burst.
    public subscript(index: Int) -> QueuedPacket {
        @inline(__always) get {
            precondition(index >= 0 && index < count, "packet index out of range")
            return packets[index]
        }
    }

    /// Points every `recvmmsg` header at its buffer. Done once: the kernel writes only
    /// `msg_len` and `msg_hdr.msg_flags`, which are outputs, and only of the datagrams it
    /// returns, which are the only ones read.
    private func resetHeaders() {
        for index in 0..<capacity {
            headers[index].msg_hdr = msghdr(
                msg_name: nil,
                msg_namelen: 0,
                msg_iov: iovecs + index,
                msg_iovlen: 1,
                msg_control: nil,
                msg_controllen: 0,
                msg_flags: 0
            )
            headers[index].msg_len = 0
        }
    }

    /// Parses `datagrams` received datagrams into packets. `awaiting` is the sequence number
    /// of a configuration message whose acknowledgement is wanted, if any.
    func parseReceived(datagrams: Int, awaiting: UInt32?) {
        count = 0
        events = ParseEvents()
        if !overflowed.isEmpty { overflowed.removeAll() }
        for index in 0..<datagrams {
            let header = headers[index]
            if header.msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0 {
                events.truncatedDatagrams += 1
            }
            let length = min(Int(header.msg_len), slotSize)
            parseDatagram(UnsafeRawBufferPointer(start: buffers + index * slotSize, count: length), awaiting: awaiting)
        }
    }

    /// Walks the netlink messages of one datagram (the codec checks every length first).
    func parseDatagram(_ bytes: UnsafeRawBufferPointer, awaiting: UInt32?) {
        let walk = NetlinkReader.forEachMessage(in: bytes) { message in
            if let code = message.errorCode {
                if let awaiting, message.sequence == awaiting {
                    events.acknowledgement = code
                } else if code != 0 {
                    events.verdictErrors += 1
                    events.lastVerdictError = code
                }
            } else if message.type == NetlinkConstants.packetMessageType {
                parsePacket(message)
            }
            return .ok
        }
        if walk == .malformed { events.malformedMessages += 1 }
    }

    /// NFQNL_MSG_PACKET: nfgenmsg, then attributes. Without a packet header there is no id to
    /// answer, so the message is counted as malformed; with one, the packet always reaches
    /// the burst, its header parsed or marked unparsable.
    @inline(__always)
    private func parsePacket(_ message: NetlinkMessage) {
        var id: UInt32?
        var hardwareProtocol: UInt16 = 0
        var hook: UInt8 = 0
        var payload: UnsafeRawBufferPointer?
        var capturedLength: Int?
        var mark: UInt32 = 0
        var malformed = true
        if let attributes = message.netfilterAttributes {
            let walk = NetlinkReader.forEachAttribute(in: attributes) { attribute in
                let value = attribute.payload
                switch attribute.type {
                case NetlinkConstants.packetHeaderAttribute where value.count >= 7:
                    // struct nfqnl_msg_packet_hdr { __be32 packet_id; __be16 hw_protocol; __u8 hook; }
                    id = UInt32(bigEndian: value.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
                    hardwareProtocol = UInt16(bigEndian: value.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
                    hook = value[6]
                case NetlinkConstants.payloadAttribute:
                    payload = value
                case NetlinkConstants.capturedLengthAttribute:
                    capturedLength = attribute.bigEndianU32.map(Int.init)
                case NetlinkConstants.markAttribute:
                    mark = attribute.bigEndianU32 ?? 0
                default:
                    break
                }
                return .ok
            }
            malformed = walk == .malformed
        }
        guard let id else {
            events.malformedMessages += 1
            return
        }
        let header: NetworkHeader
        var ports = TransportPorts.none
        if malformed {
            header = .unparsable(.badMessage)
        } else if let payload {
            header = NetworkHeader(parsing: payload)
            ports = TransportPorts(parsing: payload)
        } else {
            header = .unparsable(.noPayload)
        }
        append(
            QueuedPacket(
                id: id,
                hardwareProtocol: hardwareProtocol,
                hook: hook,
                header: header,
                length: capturedLength ?? payload?.count ?? 0,
                mark: mark,
                ports: ports
            )
        )
    }

    /// Appends a packet; beyond `capacity` it goes to `overflowed` (one packet per datagram
    /// is what the kernel sends, so that should not happen).
    @inline(__always)
    func append(_ packet: QueuedPacket) {
        guard count < capacity else {
            events.overflow += 1
            overflowed.append(packet)
            return
        }
        packets[count] = packet
        count += 1
    }

    /// Makes `packets` the burst, as if just received (for stand-in queues in tests).
    package func load(_ packets: some Sequence<QueuedPacket>) {
        clear()
        for packet in packets { append(packet) }
    }

    /// Forgets the last burst.
    func clear() {
        count = 0
        if !overflowed.isEmpty { overflowed.removeAll() }
    }
}

/// What a parse met besides packets.
struct ParseEvents {
    var truncatedDatagrams = 0
    var malformedMessages = 0
    var verdictErrors = 0
    var lastVerdictError: Int32 = 0
    var overflow = 0
    /// The kernel's answer (0 or an errno) to the awaited configuration message.
    var acknowledgement: Int32?
}

/// Netlink and nfnetlink_queue numbers the parser needs, spelled once.
enum NetlinkConstants {
    /// (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET
    static let packetMessageType = UInt16(NFNL_SUBSYS_QUEUE << 8) | UInt16(NFQNL_MSG_PACKET.rawValue)
    /// (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH
    static let verdictBatchMessageType = UInt16(NFNL_SUBSYS_QUEUE << 8) | UInt16(NFQNL_MSG_VERDICT_BATCH.rawValue)
    /// (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT
    static let verdictMessageType = UInt16(NFNL_SUBSYS_QUEUE << 8) | UInt16(NFQNL_MSG_VERDICT.rawValue)
    static let packetHeaderAttribute = UInt16(NFQA_PACKET_HDR.rawValue)
    static let payloadAttribute = UInt16(NFQA_PAYLOAD.rawValue)
    static let capturedLengthAttribute = UInt16(NFQA_CAP_LEN.rawValue)
    static let verdictHeaderAttribute = UInt16(NFQA_VERDICT_HDR.rawValue)
    static let markAttribute = UInt16(NFQA_MARK.rawValue)
}
