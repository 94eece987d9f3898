// libFuzzer target for the readers of kernel bytes, built by scripts/fuzz.sh with swiftc over
// the NetfilterQueue and Conntrack sources (-sanitize=fuzzer,address). FUZZ_READER picks the reader:
//   packet-header  NetworkHeader(parsing:), the IPv4/IPv6 header of a queued packet;
//   nfqueue        PacketBurst.parseDatagram, the NFQUEUE netlink messages of one datagram;
//   conntrack      ConntrackMessage.walk, the ctnetlink messages of one dump datagram;
//   netlink        the codec's reader alone: every message, every attribute, nests followed.
import Netlink

#if canImport(Glibc)
    import Glibc
#endif

/// The reader under test, read once from the environment.
let fuzzReader = getenv("FUZZ_READER").map { String(cString: $0) } ?? "nfqueue"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetlink(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    switch fuzzReader {
    case "packet-header":
        _ = NetworkHeader(parsing: bytes)
    case "netlink":
        _ = NetlinkReader.forEachMessage(in: bytes) { message in
            _ = message.errorCode
            if let attributes = message.netfilterAttributes { walkAttributes(attributes, depth: 0) }
            return .ok
        }
    case "conntrack":
        _ = ConntrackMessage.walk(bytes, dumpSequence: 7, onEntry: { _ in }, onAnswer: { _, _ in })
    default:
        let burst = PacketBurst(capacity: 8, slotSize: 64)
        burst.parseDatagram(bytes, awaiting: 7)
        precondition(burst.count <= burst.capacity)
        for index in 0..<burst.count { _ = burst[index] }
    }
    return 0
}

/// Walks attributes, following every attribute as a possible nest up to a depth of 4.
func walkAttributes(_ buffer: UnsafeRawBufferPointer, depth: Int) {
    _ = NetlinkReader.forEachAttribute(in: buffer) { attribute in
        _ = (attribute.u8, attribute.bigEndianU16, attribute.bigEndianU32, attribute.bigEndianU64(at: 4))
        precondition(attribute.payload.count <= buffer.count)
        if depth < 4 { walkAttributes(attribute.payload, depth: depth + 1) }
        return .ok
    }
}
