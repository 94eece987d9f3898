import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Reads an x_tables (iptables-legacy) table from the kernel as iptables-legacy-save does,
/// with getsockopt IPT_SO_GET_INFO / IPT_SO_GET_ENTRIES (IP6T_ for IPv6), but on a UDP socket:
/// the kernel passes unknown SOL_IP / SOL_IPV6 options of any inet socket to netfilter, which
/// checks CAP_NET_ADMIN only (a raw socket, as iptables opens, would need CAP_NET_RAW too).
/// No program runs; two syscalls per read.
public enum XtablesSocketOption {
    /// sizeof(struct ipt_getinfo) = sizeof(struct ip6t_getinfo).
    public static let infoSize = 84
    /// offsetof(struct ipt_get_entries, entrytable) (the same for IPv6).
    public static let entriesHeaderSize = 40

    /// The table `name` of the family (`ipv6` false: IPv4): the getinfo bytes and the entry
    /// blob. ENOENT when the table does not exist (or the family's x_tables are not loaded:
    /// ENOPROTOOPT).
    public static func readTable(name: String, ipv6: Bool) throws(Errno) -> (info: [UInt8], entries: [UInt8]) {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        defer { close(fd) }
        let level = ipv6 ? Int32(IPPROTO_IPV6) : Int32(IPPROTO_IP)
        // IPT_SO_GET_INFO = IP6T_SO_GET_INFO = 64, *_GET_ENTRIES = 65.
        var info = [UInt8](repeating: 0, count: infoSize)
        let nameBytes = Array(name.utf8.prefix(31))
        info.replaceSubrange(0..<nameBytes.count, with: nameBytes)
        try get(fd, level, 64, &info)
        let size = Int(info.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 80, as: UInt32.self) })
        var entries = [UInt8](repeating: 0, count: entriesHeaderSize + size)
        entries.replaceSubrange(0..<nameBytes.count, with: nameBytes)
        entries.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(size), toByteOffset: 32, as: UInt32.self) }
        try get(fd, level, 65, &entries)
        return (info, Array(entries[entriesHeaderSize...]))
    }

    private static func get(_ fd: Int32, _ level: Int32, _ option: Int32, _ buffer: inout [UInt8]) throws(Errno) {
        var length = socklen_t(buffer.count)
        let result = buffer.withUnsafeMutableBytes { raw in
            SystemCall.retryingInterrupts { getsockopt(fd, level, option, raw.baseAddress, &length) }
        }
        guard result == 0 else { throw SystemCall.lastError }
    }
}
