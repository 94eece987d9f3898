import LinuxSystem
import Netlink

#if canImport(Glibc)
    import Glibc
#endif

/// Figures of one queue's socket that the kernel does not count for us.
public struct QueueSocketStatistics: Sendable, Equatable {
    /// `recvmmsg` calls that failed with ENOBUFS (receive buffer overrun). With
    /// NETLINK_NO_ENOBUFS set the kernel should not report these; they are counted anyway.
    public var enobufs: UInt64 = 0
    /// Datagrams cut short because they did not fit the receive slot.
    public var truncatedDatagrams: UInt64 = 0
    /// Netlink messages that could not be walked, or packet messages without an id.
    public var malformedMessages: UInt64 = 0
    /// Error answers of the kernel to verdict messages (for example ENOENT, unknown id).
    public var verdictErrors: UInt64 = 0
    /// `send` calls of verdicts that failed (or were short).
    public var sendErrors: UInt64 = 0
    /// Whole verdict batches sent again after a transient send failure.
    public var verdictResends: UInt64 = 0
    /// Packets answered one by one because their verdict batch could not be sent.
    public var singleVerdicts: UInt64 = 0
    /// Packets whose verdict could not be sent yet, carried to the next send.
    public var deferredVerdicts: UInt64 = 0
    /// The errno of the last verdict error, 0 if none.
    public var lastVerdictErrno: Int32 = 0
    /// Packets beyond the burst's capacity (handed out first by the next receive).
    public var overflow: UInt64 = 0

    public init() {}
}

/// One bound NFQUEUE: its own netlink socket, configured at `init`, unbound by `close`
/// (or `deinit`). Use from one thread; create one per queue.
public final class NetfilterQueue {
    public let configuration: QueueConfiguration
    private let socket: NetlinkSocket
    private var sequence: UInt32 = 1
    private var bound = false
    /// Packets that arrived while a configuration message was being acknowledged, or that
    /// did not fit a burst: the next receive hands them out before reading the socket.
    private var early: [QueuedPacket] = []
    private let setupBurst: PacketBurst
    /// The netlink port id of the queue's socket: the kernel's queue table shows it beside the
    /// queue while this socket has it bound.
    public var portID: UInt32 { socket.portID }
    /// The receive buffer size the kernel granted, in bytes.
    public private(set) var receiveBufferBytes = 0
    private let verdictSender: VerdictSender
    /// Figures of the receive side; the send side's are the verdict sender's.
    private var receiveStatistics = QueueSocketStatistics()
    /// Figures counted on this socket so far.
    public var statistics: QueueSocketStatistics {
        var figures = receiveStatistics
        let sent = verdictSender.statistics
        figures.sendErrors = sent.sendErrors
        figures.verdictResends = sent.resends
        figures.singleVerdicts = sent.singleVerdicts
        figures.deferredVerdicts = sent.deferredVerdicts
        return figures
    }

    /// Opens a netlink socket, binds `configuration.queue` and configures it (copy mode and
    /// range, queue length, GSO and fail-open flags), then sets the socket options (receive
    /// buffer, NETLINK_NO_ENOBUFS, receive timeout). Throws with the kernel's errno if the
    /// queue cannot be bound: EPERM without CAP_NET_ADMIN, EBUSY when another process has it.
    public convenience init(configuration: QueueConfiguration) throws(NetfilterQueueError) {
        try self.init(configuration: configuration, verdictTransport: { $0 })
    }

    /// The same, with the verdicts sent through `verdictTransport(socket)`: the seam through
    /// which scripts/verdict-fault-test.sh makes real sends fail.
    package init(
        configuration: QueueConfiguration,
        verdictTransport: (any VerdictTransport) -> any VerdictTransport,
        adopting adopted: NetlinkSocket? = nil
    ) throws(NetfilterQueueError) {
        try configuration.validate()
        self.configuration = configuration
        do {
            if let adopted { socket = adopted } else { socket = try NetlinkSocket() }
            receiveBufferBytes = try socket.setReceiveBuffer(bytes: configuration.receiveBufferBytes)
            try socket.setNoENOBUFS()
            try socket.setReceiveTimeout(milliseconds: configuration.receiveTimeoutMilliseconds)
        } catch {
            throw NetfilterQueueError(error)
        }
        verdictSender = VerdictSender(transport: verdictTransport(socket))
        setupBurst = PacketBurst(capacity: 16, slotSize: max(1024, configuration.copyRange + 512))
        // An adopted socket is bound already, with packets waiting ahead of any answer: its
        // parameters go without waiting (see NetfilterQueue+Adoption.swift).
        if adopted != nil {
            bound = true
            try sendConfig(sequence: 0, command: nil, parameters: configuration, acknowledge: false)
            return
        }
        try configure(command: .bind, parameters: nil, operation: "bind")
        bound = true
        do throws(NetfilterQueueError) {
            try configure(
                command: nil,
                parameters: configuration,
                operation: "configure (copy range, max length, flags)"
            )
        } catch {
            close()
            throw error
        }
    }

    /// The socket's descriptor (for a hand-over: another process given it gets the same
    /// socket, still bound).
    public var descriptor: Int32 { socket.fd }

    /// Packets read from the socket but not yet handed out by `receive`.
    public var heldPackets: Int { early.count }

    /// Forgets the binding without unbinding: `close` and `deinit` then leave the queue bound
    /// for whoever else holds the socket (a process it was handed to). Returns the descriptor.
    public func detach() -> Int32? {
        bound = false
        return socket.fd
    }

    deinit {
        close()
    }

    /// Sends one configuration message and waits for the kernel's acknowledgement. Packets
    /// met meanwhile are kept and handed out by the next `receive`.
    private func configure(
        command: QueueConfigMessage.Command?,
        parameters: QueueConfiguration?,
        operation: String
    ) throws(NetfilterQueueError) {
        sequence &+= 1
        let expected = sequence
        try sendConfig(sequence: expected, command: command, parameters: parameters, acknowledge: true)
        // A few receive timeouts' worth of waiting; the kernel answers synchronously.
        let attempts = max(3, 2000 / configuration.receiveTimeoutMilliseconds)
        for _ in 0..<attempts {
            let answer = try receiveDatagrams(into: setupBurst, wait: true, awaiting: expected)
            for index in 0..<setupBurst.count {
                early.append(setupBurst[index])
            }
            early.append(contentsOf: setupBurst.overflowed)
            if let code = answer {
                guard code == 0 else {
                    if command == .bind, Errno(code) == .notPermitted,
                        let holder = (KernelQueueTable.readNow() ?? []).first(where: { $0.queue == configuration.queue }
                        ),
                        holder.portID != socket.portID
                    {
                        throw .queueTaken(queue: configuration.queue, portID: holder.portID)
                    }
                    throw .kernelRefused(queue: configuration.queue, operation: operation, Errno(code))
                }
                return
            }
        }
        throw .noAcknowledgement(queue: configuration.queue, operation: operation)
    }

    /// One configuration message for this queue. Without `acknowledge` (an adopted queue, see
    /// `init(adopting:configuration:)`) nothing is awaited: a refusal comes back among the packets.
    private func sendConfig(
        sequence: UInt32,
        command: QueueConfigMessage.Command?,
        parameters: QueueConfiguration?,
        acknowledge: Bool
    ) throws(NetfilterQueueError) {
        let message = QueueConfigMessage.encode(
            queue: configuration.queue,
            sequence: sequence,
            command: command,
            parameters: parameters,
            acknowledge: acknowledge
        )
        do {
            try socket.send(message, count: message.count)
        } catch {
            throw NetfilterQueueError(error)
        }
    }

    /// Waits up to the receive timeout for packets and takes every datagram that is ready, up
    /// to the burst's capacity, in one `recvmmsg`. Returns the number of packets in `burst`
    /// (0 after a timeout). ENOBUFS is counted, never thrown. Cost: one system call per burst,
    /// no allocation.
    @discardableResult
    public func receive(into burst: PacketBurst) throws(NetfilterQueueError) -> Int {
        if !early.isEmpty {
            burst.clear()
            while let packet = early.first, burst.count < burst.capacity {
                burst.append(packet)
                early.removeFirst()
            }
            return burst.count
        }
        _ = try receiveDatagrams(into: burst, wait: true, awaiting: nil)
        if !burst.overflowed.isEmpty { early.append(contentsOf: burst.overflowed) }
        return burst.count
    }

    /// Like `receive`, but returns at once when nothing is waiting.
    @discardableResult
    public func receiveWaiting(into burst: PacketBurst) throws(NetfilterQueueError) -> Int {
        if !early.isEmpty { return try receive(into: burst) }
        _ = try receiveDatagrams(into: burst, wait: false, awaiting: nil)
        if !burst.overflowed.isEmpty { early.append(contentsOf: burst.overflowed) }
        return burst.count
    }

    /// One `recvmmsg` and its parse; returns the acknowledgement code if `awaiting` was met.
    private func receiveDatagrams(
        into burst: PacketBurst,
        wait: Bool,
        awaiting: UInt32?
    ) throws(NetfilterQueueError) -> Int32? {
        switch socket.receiveMany(burst.headers, count: burst.capacity, wait: wait) {
        case .success(let datagrams):
            burst.parseReceived(datagrams: datagrams, awaiting: awaiting)
        case .failure(let error) where error == .noBufferSpace:
            receiveStatistics.enobufs += 1
            burst.parseReceived(datagrams: 0, awaiting: nil)
        case .failure(let error):
            throw .syscall("recvmmsg(netlink)", error)
        }
        let events = burst.events
        receiveStatistics.truncatedDatagrams += UInt64(events.truncatedDatagrams)
        receiveStatistics.malformedMessages += UInt64(events.malformedMessages)
        receiveStatistics.verdictErrors += UInt64(events.verdictErrors)
        receiveStatistics.overflow += UInt64(events.overflow)
        if events.verdictErrors > 0 { receiveStatistics.lastVerdictErrno = events.lastVerdictError }
        return events.acknowledgement
    }

    /// Sends every verdict of `batch` in one `send` and empties it. A failed send is resent or
    /// answered packet by packet (see `VerdictSender`), so it never lets another message
    /// decide these packets; what still could not be sent stays in `batch`, first in line for
    /// the next send, and the error is thrown for the caller to log. Cost of a good send: one
    /// system call.
    public func send(_ batch: VerdictBatch) throws(NetfilterQueueError) {
        if let error = verdictSender.send(batch) { throw error }
    }

    /// Unbinds the queue. Packets still queued in the kernel are dropped by it (or, with
    /// `--queue-bypass` on the rule, new packets bypass). Idempotent.
    public func close() {
        guard bound else { return }
        bound = false
        try? configure(command: .unbind, parameters: nil, operation: "unbind")
    }
}
