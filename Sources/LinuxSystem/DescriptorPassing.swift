import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Hands open file descriptors to another process over a connected AF_UNIX socket
/// (SCM_RIGHTS, unix(7)): the receiver gets new descriptors of the same open files (for a
/// bound NFQUEUE netlink socket: the same socket, still bound). With them goes a short
/// message saying what they are. The control message is laid out by hand (CMSG_* are macros
/// Swift cannot import): struct cmsghdr (size_t len, int level, int type: 16 bytes on
/// 64-bit Linux), then the int descriptors, the whole padded to 8 bytes.
public enum DescriptorPassing {
    /// The most descriptors one message carries (the kernel's SCM_MAX_FD is 253).
    public static let maximumCount = 64

    static let headerSize = MemoryLayout<Int>.size + 8

    static func space(_ count: Int) -> Int { headerSize + ((count * 4 + 7) & ~7) }

    /// Sends `message` (at least one byte) with `descriptors` over `socket`: a connected one,
    /// or a datagram socket to `destination` (the service manager's notification socket).
    public static func send(
        _ descriptors: [Int32],
        message: [UInt8],
        over socket: Int32,
        to destination: UnixSocketAddress? = nil
    ) throws(Errno) {
        precondition(!message.isEmpty && descriptors.count <= maximumCount)
        var control = [UInt8](repeating: 0, count: space(descriptors.count))
        control.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: headerSize + descriptors.count * 4, as: Int.self)
            raw.storeBytes(of: SOL_SOCKET, toByteOffset: headerSize - 8, as: Int32.self)
            raw.storeBytes(of: Int32(SCM_RIGHTS), toByteOffset: headerSize - 4, as: Int32.self)
            for (index, descriptor) in descriptors.enumerated() {
                raw.storeBytes(of: descriptor, toByteOffset: headerSize + index * 4, as: Int32.self)
            }
        }
        var payload = message
        let result = payload.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { controlBytes in
                var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var header = msghdr()
                    header.msg_iov = vectorPointer
                    header.msg_iovlen = 1
                    header.msg_control = descriptors.isEmpty ? nil : controlBytes.baseAddress
                    header.msg_controllen = descriptors.isEmpty ? 0 : controlBytes.count
                    guard let destination else {
                        return SystemCall.retryingInterrupts { sendmsg(socket, &header, Int32(MSG_NOSIGNAL)) }
                    }
                    return destination.withSocketAddress { address, length in
                        header.msg_name = UnsafeMutableRawPointer(mutating: address)
                        header.msg_namelen = length
                        return SystemCall.retryingInterrupts { sendmsg(socket, &header, Int32(MSG_NOSIGNAL)) }
                    }
                }
            }
        }
        guard result >= 0 else { throw SystemCall.lastError }
    }

    /// Closes descriptors received and not used.
    public static func close(_ descriptors: [Int32]) {
        for descriptor in descriptors { _ = Glibc.close(descriptor) }
    }

    /// Receives one message of at most `capacity` bytes and the descriptors that came with it
    /// (close-on-exec set). An empty message: the peer closed the connection.
    public static func receive(over socket: Int32, capacity: Int = 4096) throws(Errno) -> (
        message: [UInt8], descriptors: [Int32]
    ) {
        var data = [UInt8](repeating: 0, count: capacity)
        var control = [UInt8](repeating: 0, count: space(maximumCount))
        var received = 0
        var controlLength = 0
        let result = data.withUnsafeMutableBytes { dataBytes in
            control.withUnsafeMutableBytes { controlBytes in
                var vector = iovec(iov_base: dataBytes.baseAddress, iov_len: dataBytes.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var header = msghdr()
                    header.msg_iov = vectorPointer
                    header.msg_iovlen = 1
                    header.msg_control = controlBytes.baseAddress
                    header.msg_controllen = controlBytes.count
                    let count = SystemCall.retryingInterrupts {
                        recvmsg(socket, &header, Int32(MSG_CMSG_CLOEXEC))
                    }
                    controlLength = header.msg_controllen
                    return count
                }
            }
        }
        guard result >= 0 else { throw SystemCall.lastError }
        received = result
        return (Array(data[..<received]), descriptors(in: Array(control[..<controlLength])))
    }

    /// The SCM_RIGHTS descriptors of a received control buffer.
    static func descriptors(in control: [UInt8]) -> [Int32] {
        var found: [Int32] = []
        var offset = 0
        while control.count - offset >= headerSize {
            let (length, level, type) = control.withUnsafeBytes {
                (
                    $0.loadUnaligned(fromByteOffset: offset, as: Int.self),
                    $0.loadUnaligned(fromByteOffset: offset + headerSize - 8, as: Int32.self),
                    $0.loadUnaligned(fromByteOffset: offset + headerSize - 4, as: Int32.self)
                )
            }
            guard length >= headerSize, length <= control.count - offset else { break }
            if level == SOL_SOCKET && type == Int32(SCM_RIGHTS) {
                let count = (length - headerSize) / 4
                for index in 0..<count {
                    found.append(
                        control.withUnsafeBytes {
                            $0.loadUnaligned(fromByteOffset: offset + headerSize + index * 4, as: Int32.self)
                        }
                    )
                }
            }
            offset += (length + 7) & ~7
        }
        return found
    }
}
