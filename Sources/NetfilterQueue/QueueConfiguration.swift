/// How one NFQUEUE is bound and tuned. Every field has a default an operator can keep.
public struct QueueConfiguration: Sendable, Equatable {
    /// The queue number, as in `iptables -j NFQUEUE --queue-num N`.
    public var queue: UInt16
    /// Bytes of each packet the kernel copies to us. The policy reads only the IP header
    /// addresses (20 bytes of IPv4, 40 of IPv6), so the default copies 64 bytes and no more.
    public var copyRange: Int = 64
    /// Kernel queue length (packets waiting for a verdict) before the kernel drops, or with
    /// `failOpen` accepts, new packets. The kernel's own default is 1024.
    public var maxLength: UInt32 = 4096
    /// NFQA_CFG_F_GSO: take GSO/GRO super-packets whole instead of having the kernel segment
    /// them (and compute checksums) before queueing. One verdict covers the super-packet.
    public var gso: Bool = true
    /// NFQA_CFG_F_FAIL_OPEN: when the queue is full, the kernel accepts instead of dropping.
    public var failOpen: Bool = false
    /// Socket receive buffer in bytes, set with SO_RCVBUFFORCE (falls back to SO_RCVBUF).
    public var receiveBufferBytes: Int = 8 << 20
    /// Datagrams taken per `recvmmsg` call, and so the largest burst answered by one send.
    public var burstSize: Int = 64
    /// How long one receive call waits before returning an empty burst, so that a worker
    /// notices a stop request. Milliseconds.
    public var receiveTimeoutMilliseconds: Int = 200

    public init(queue: UInt16) {
        self.queue = queue
    }

    /// Checks ranges; the error names the field.
    public func validate() throws(NetfilterQueueError) {
        guard (40...65535).contains(copyRange) else {
            throw .invalidConfiguration(field: "copy range", reason: "\(copyRange) is not in 40...65535 bytes")
        }
        guard maxLength >= 1 else {
            throw .invalidConfiguration(field: "queue max length", reason: "must be at least 1")
        }
        guard (1...1024).contains(burstSize) else {
            throw .invalidConfiguration(field: "burst size", reason: "\(burstSize) is not in 1...1024")
        }
        guard receiveBufferBytes >= 65536 else {
            throw .invalidConfiguration(field: "receive buffer", reason: "\(receiveBufferBytes) is below 65536 bytes")
        }
        guard (1...10_000).contains(receiveTimeoutMilliseconds) else {
            throw .invalidConfiguration(
                field: "receive timeout",
                reason: "\(receiveTimeoutMilliseconds) ms is not in 1...10000"
            )
        }
    }
}
