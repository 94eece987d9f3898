import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A raw netlink socket of one protocol, owned (`deinit` closes it), for requests and their
/// answers off the hot path, and for multicast notifications (`groups`). Plain syscalls, no
/// libmnl: the queue keeps its own socket; this one serves the rule watch.
/// Use from one thread.
public final class NetlinkChannel {
    /// NETLINK_NETFILTER.
    public static let netfilter: Int32 = 12

    public let descriptor: Int32

    /// Opens a socket of `netlinkProtocol`, binds it (the kernel picks the port id) and joins
    /// `groups` (multicast group numbers, e.g. NFNLGRP_NFTABLES 7).
    public init(netlinkProtocol: Int32 = NetlinkChannel.netfilter, groups: [UInt32] = []) throws(Errno) {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkProtocol)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        // struct sockaddr_nl (12 bytes, not imported): family u16, pad u16, pid u32 (0: the
        // kernel picks), groups u32 (0: joined below, by number).
        var address = [UInt8](repeating: 0, count: 12)
        address.withUnsafeMutableBytes { $0.storeBytes(of: UInt16(AF_NETLINK), as: UInt16.self) }
        let bound = address.withUnsafeBytes { raw in
            bind(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
        guard bound == 0 else {
            let error = Errno(rawValue: errno)
            close(fd)
            throw error
        }
        for group in groups {
            var number = group
            // SOL_NETLINK 270, NETLINK_ADD_MEMBERSHIP 1.
            guard setsockopt(fd, 270, 1, &number, socklen_t(MemoryLayout<UInt32>.size)) == 0 else {
                let error = Errno(rawValue: errno)
                close(fd)
                throw error
            }
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Sends `bytes` (one or more netlink messages) in one `send`.
    public func send(_ bytes: [UInt8]) throws(Errno) {
        let result = bytes.withUnsafeBytes { raw in
            SystemCall.retryingInterrupts { Glibc.send(descriptor, raw.baseAddress, raw.count, 0) }
        }
        guard result >= 0 else { throw SystemCall.lastError }
    }

    /// Waits at most `milliseconds` for a datagram; true when one can be read.
    public func waitReadable(milliseconds: Int32) throws(Errno) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let result = SystemCall.retryingInterrupts { poll(&entry, 1, milliseconds) }
        guard result >= 0 else { throw SystemCall.lastError }
        return result > 0
    }

    /// Receives one datagram into `buffer` without waiting longer than `milliseconds`: its
    /// length (MSG_TRUNC: larger than the buffer when it did not fit), or nil on the timeout.
    public func receive(into buffer: inout [UInt8], milliseconds: Int32) throws(Errno) -> Int? {
        guard try waitReadable(milliseconds: milliseconds) else { return nil }
        let result = buffer.withUnsafeMutableBytes { raw in
            SystemCall.retryingInterrupts { recv(descriptor, raw.baseAddress, raw.count, Int32(MSG_TRUNC)) }
        }
        if result >= 0 { return result }
        let error = errno
        if error == EAGAIN || error == EWOULDBLOCK { return nil }
        throw Errno(rawValue: error)
    }

    /// Reads and forgets every datagram waiting (notifications are a wake-up, not data).
    /// ENOBUFS (notifications lost) counts as something read.
    public func drain() -> Int {
        var count = 0
        var scratch = [UInt8](repeating: 0, count: 8192)
        while true {
            let result = scratch.withUnsafeMutableBytes { raw in
                SystemCall.retryingInterrupts { recv(descriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT)) }
            }
            if result >= 0 || errno == ENOBUFS {
                count += 1
                continue
            }
            return count
        }
    }
}
