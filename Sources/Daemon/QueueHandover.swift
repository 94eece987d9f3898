import Engine
import LinuxSystem
import NetfilterQueue
import Synchronization

/// A restart without a gap, at start: where this process's queues come from.
///
/// - From a running exitblock listening on the hand-over socket (a restart without a service
///   manager): it is found at start, but asked only once this process's lists are in (see
///   `takeOver`); until then it keeps judging, and the engine holds `PendingQueue`s.
/// - From the service manager's descriptor store (LISTEN_FDS, FDNAME nfqueue-N): the queue
///   sockets the previous process stored at its stop, adopted at once.
/// - Else each queue is bound as at a first start.
///
/// Either way nothing is unbound or bound again: the kernel keeps queueing to the same
/// sockets, and the packets that arrived while no process read (the kernel gap) are read by
/// this one. `reportGap` says how many there were.
final class QueueHandover {
    /// How long the old process may take to answer `take` (its workers answer what they hold).
    static let answerTimeoutMilliseconds: Int32 = 30_000
    /// How long the old process may take to exit once it gave the queues.
    static let exitTimeoutMilliseconds: Int32 = 20_000

    let path: String?
    var peer: LocalStreamSocket?
    var stored: StoredQueues?
    /// Where the adopted queues came from, for the log ("pid 812", "the descriptor store").
    var origin = ""
    var adopted: [UInt16] = []
    var stoppedNanoseconds: UInt64?
    /// Opened now, while the process may still read it (root only).
    let kernelTable = KernelQueueTable()
    /// Who gives this process's queues away at its stop (the listener or the descriptor store).
    let claim = HandoverClaim()

    /// Looks for the queues' sources: the descriptor store's (for this process), else a
    /// running exitblock on `path` (nil: the hand-over socket is off).
    init(path: String?, environment: [String: String]) {
        self.path = path
        stored = StoredQueues.parse(environment: environment, pid: CurrentProcess.id)
        if let stored {
            origin = "the service manager's descriptor store"
            Output.message(
                "hand-over: \(stored.descriptors.count) queue socket(s) \(stored.queues) in the descriptor store"
            )
        } else if let path, (try? UnixSocketAddress(path))?.hasListener == true {
            do {
                peer = try LocalStreamSocket.connect(to: path)
                Output.message("hand-over: an exitblock serves the queues (\(path)); taking them once the lists are in")
            } catch {
                Output.error("hand-over: cannot connect to \(path): \(error); binding the queues")
            }
        }
    }

    /// Whether the queues are to be taken from a running exitblock.
    var waitsForPeer: Bool { peer != nil }

    /// The queue for the engine: a stand-in while a running exitblock holds it, the stored
    /// socket when there is one, else a new binding.
    func openQueue(_ configuration: QueueConfiguration) throws(NetfilterQueueError) -> any PacketQueue {
        if peer != nil { return PendingQueue() }
        if let stored, let index = stored.queues.firstIndex(of: configuration.queue) {
            let descriptor = stored.descriptors[index]
            do {
                let queue = try adoptChecked(descriptor, configuration)
                adopted.append(configuration.queue)
                return queue
            } catch {
                Output.error("hand-over: stored socket of queue \(configuration.queue): \(error); binding it anew")
            }
        }
        return try NetfilterQueue(configuration: configuration)
    }

    /// The queue on `descriptor`, once the kernel's queue table (when readable) says that
    /// socket owns it.
    private func adoptChecked(
        _ descriptor: Int32,
        _ configuration: QueueConfiguration
    ) throws(NetfilterQueueError) -> NetfilterQueue {
        let queue = try NetfilterQueue(adopting: descriptor, configuration: configuration)
        if let figures = kernelTable.read() {
            let owner = figures.first { $0.queue == configuration.queue }?.portID
            guard owner == queue.portID else {
                _ = queue.detach()
                throw .invalidConfiguration(
                    field: "handed-over socket",
                    reason:
                        "port id \(queue.portID) does not own queue \(configuration.queue) (owner: \(owner.map(String.init) ?? "none"))"
                )
            }
        }
        return queue
    }

    /// After the engine was built from the store: closes what it passed and nobody uses.
    func closeUnusedStored(wanted: [UInt16]) {
        guard let stored else { return }
        var unused = stored.others
        for (queue, descriptor) in zip(stored.queues, stored.descriptors) where !wanted.contains(queue) {
            Output.message("hand-over: stored queue \(queue) is not configured: its socket is closed")
            unused.append(descriptor)
        }
        DescriptorPassing.close(unused)
    }
}

extension QueueHandover {
    /// With a running exitblock: asks it for the queues (its workers stop reading and answer
    /// what they read; the sockets come back still bound), adopts those configured and puts
    /// them in the engine before its workers start. Queues it did not give (or that cannot be
    /// adopted) are bound anew once it has exited. Throws only when such a binding fails.
    func takeOver(engine: Engine) throws(NetfilterQueueError) {
        guard let peer else { return }
        let wanted = engine.configuration.queues
        var plan: HandoverPlan
        do throws(HandoverError) {
            let answer = try Self.ask(peer, wanted: wanted)
            origin = "pid \(answer.message.pid)"
            stoppedNanoseconds = answer.message.stoppedNanoseconds
            plan = HandoverPlan.make(
                offered: answer.message.queues,
                descriptors: answer.descriptors,
                wanted: wanted
            )
        } catch {
            Output.error(
                "hand-over: \(error); binding the queues (once the running exitblock is gone, if it holds them)"
            )
            plan = HandoverPlan(bind: wanted)
        }
        for note in plan.notes { Output.message("hand-over: \(note)") }
        DescriptorPassing.close(plan.close)
        var queues: [UInt16: any PacketQueue] = [:]
        for (queue, descriptor) in plan.adopt.sorted(by: { $0.key < $1.key }) {
            do {
                queues[queue] = try adoptChecked(descriptor, engine.configuration.queueConfiguration(queue))
                adopted.append(queue)
            } catch {
                Output.error("hand-over: queue \(queue): \(error); binding it anew")
                plan.bind.append(queue)
            }
        }
        if !plan.bind.isEmpty {
            awaitPreviousExit()
            for queue in plan.bind {
                queues[queue] = try NetfilterQueue(configuration: engine.configuration.queueConfiguration(queue))
            }
        }
        engine.adopt(queues)
    }

    /// Sends `take` and waits for `give` and its descriptors.
    private static func ask(
        _ peer: LocalStreamSocket,
        wanted: [UInt16]
    ) throws(HandoverError) -> (message: HandoverMessage, descriptors: [Int32]) {
        let request = HandoverMessage(kind: .take, pid: CurrentProcess.id, queues: wanted)
        let received: (message: [UInt8], descriptors: [Int32])?
        do {
            try peer.send(request.encoded)
            received = try peer.receive(milliseconds: answerTimeoutMilliseconds)
        } catch {
            throw .system("hand-over socket", error.rawValue)
        }
        guard let received, !received.message.isEmpty else {
            throw .noAnswer(
                "the running exitblock did not give its queues (other queues, another network namespace, or stopping: see its log)"
            )
        }
        do throws(HandoverError) {
            let message = try HandoverMessage.parse(received.message)
            guard message.kind == .give else { throw .malformed("expected give") }
            return (message, received.descriptors)
        } catch {
            DescriptorPassing.close(received.descriptors)
            throw error
        }
    }

    /// Waits (bounded) until the process that gave the queues has exited: its end of the
    /// hand-over socket closes then. Its stats socket and hand-over socket are gone by then.
    func awaitPreviousExit() {
        guard let peer else { return }
        let deadline = CurrentProcess.monotonicNanoseconds() + UInt64(Self.exitTimeoutMilliseconds) * 1_000_000
        while CurrentProcess.monotonicNanoseconds() < deadline {
            let received: (message: [UInt8], descriptors: [Int32])?
            do {
                received = try peer.receive(milliseconds: 200)
            } catch {
                break  // ECONNRESET and the like: gone as well
            }
            guard let received else { continue }
            DescriptorPassing.close(received.descriptors)
            if received.message.isEmpty { break }
        }
        if CurrentProcess.monotonicNanoseconds() < deadline {
            self.peer = nil
            return
        }
        Output.error(
            "hand-over: the previous exitblock has not exited \(Self.exitTimeoutMilliseconds / 1000) s after the hand-over"
        )
        self.peer = nil
    }

    /// Logs the queues taken over and the kernel gap: the packets waiting in them now, which
    /// the kernel queued while no process read (the workers start right after). Returns the
    /// number of waiting packets, nil when nothing was taken over.
    @discardableResult
    func reportGap() -> UInt64? {
        guard !adopted.isEmpty else { return nil }
        let figures = kernelTable.read() ?? []
        let waiting = figures.filter { adopted.contains($0.queue) }.reduce(UInt64(0)) { $0 + $1.waiting }
        var line = "hand-over: took queue(s) \(adopted.sorted()) from \(origin), still bound"
        line += figures.isEmpty ? "" : "; \(waiting) packet(s) waiting for a verdict"
        if let stoppedNanoseconds {
            let now = CurrentProcess.monotonicNanoseconds()
            let gap = now > stoppedNanoseconds ? (now - stoppedNanoseconds) / 1000 : 0
            line += "; no process read for \(gap / 1000).\(String(gap % 1000 / 100)) ms"
        }
        Output.message(line)
        return figures.isEmpty ? nil : waiting
    }
}

/// Once per process, the right to give the queues away at the stop: the hand-over socket's
/// listener or the descriptor store, whichever comes first. It also keeps the connection the
/// queues went over open until the very end of the teardown (the stats socket closed and
/// removed): its close tells the new process that this one is gone.
final class HandoverClaim: Sendable {
    private let taken = Atomic<Bool>(false)
    private let connection = Mutex<LocalStreamSocket?>(nil)

    /// True for the first caller only.
    func take() -> Bool { !taken.exchange(true, ordering: .relaxed) }

    /// Keeps `connection` open until `release`.
    func keep(_ connection: LocalStreamSocket) {
        self.connection.withLock { $0 = connection }
    }

    /// Closes the kept connection; the last undo of the teardown.
    func release() {
        connection.withLock { $0 = nil }
    }
}
