import Dispatch
import Engine
import LinuxSystem
import Synchronization
import SystemPackage

/// The running daemon's side of the restart hand-over: listens on the hand-over socket; when
/// a starting exitblock (root, or this daemon's own user) asks for the queues, the workers
/// stop reading, answer every packet they read, and leave their queues bound; the queue
/// sockets go to the new process with one `give` line, and this process stops (SIGTERM to
/// itself). What the kernel queued meanwhile waits in the sockets for the new process.
final class HandoverListener: Sendable {
    /// How long a connected process may take to ask (it loads its lists first).
    static let requestTimeoutMilliseconds: Int32 = 300_000

    let path: String
    private let listener: Mutex<LocalStreamSocket?>
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let handedOver = Atomic<Bool>(false)
    private let engine: Engine
    /// The right to give the queues away (see HandoverClaim), and the keeper of the
    /// connection they went over.
    private let claim: HandoverClaim

    /// Listens on `path` (mode 0600) and starts the thread that serves it.
    init(path: String, engine: Engine, claim: HandoverClaim) throws(Errno) {
        self.path = path
        self.engine = engine
        self.claim = claim
        listener = Mutex(try LocalStreamSocket.listen(at: path))
        SystemThread.start(name: "exitblock-handover") { [self] in
            serve()
            finished.signal()
        }
    }

    private func serve() {
        while !stopRequested.load(ordering: .relaxed), !handedOver.load(ordering: .relaxed) {
            let connection: LocalStreamSocket?
            do {
                connection = try listener.withLock { try $0?.accept(milliseconds: 200) }
            } catch {
                Output.error("hand-over: accept on \(path): \(error)")
                SystemThread.sleep(seconds: 0.2)
                continue
            }
            if let connection { answer(connection) }
        }
    }

    /// One connection: waits for its `take`, then hands the queues over.
    private func answer(_ connection: LocalStreamSocket) {
        let me = CurrentProcess.effectiveUserID
        guard let peer = try? connection.peerUserID(), peer == 0 || peer == me else {
            Output.error("hand-over: a process of another user connected to \(path); ignored")
            return
        }
        let request: HandoverMessage
        do {
            guard let received = try awaitRequest(connection), !received.message.isEmpty else { return }
            DescriptorPassing.close(received.descriptors)
            request = try HandoverMessage.parse(received.message)
            guard request.kind == .take else { throw HandoverError.malformed("expected take") }
        } catch {
            Output.error("hand-over: \(error); going on")
            return
        }
        give(to: connection, request)
    }

    /// The connected process's first message, waited for in slices so that a stop is not
    /// held up; nil after `requestTimeoutMilliseconds` or a stop request.
    private func awaitRequest(_ connection: LocalStreamSocket) throws(Errno) -> (
        message: [UInt8], descriptors: [Int32]
    )? {
        var waited: Int32 = 0
        while waited < Self.requestTimeoutMilliseconds, !stopRequested.load(ordering: .relaxed) {
            if let received = try connection.receive(milliseconds: 200) { return received }
            waited += 200
        }
        return nil
    }

    private func give(to connection: LocalStreamSocket, _ request: HandoverMessage) {
        if let refusal = Self.refusal(of: request, running: engine.configuration.queues) {
            Output.message("hand-over: pid \(request.pid) asks for queue(s) \(request.queues), but \(refusal); refused")
            return
        }
        guard claim.take() else {
            Output.message("hand-over: pid \(request.pid) asks for the queues, but this daemon is stopping; refused")
            return
        }
        Output.message("hand-over: pid \(request.pid) asks for queue(s) \(request.queues); stopping the workers")
        handedOver.store(true, ordering: .relaxed)
        let handed = engine.handOver()
        let message = HandoverMessage(
            kind: .give,
            pid: CurrentProcess.id,
            queues: handed.map(\.queue),
            stoppedNanoseconds: CurrentProcess.monotonicNanoseconds()
        )
        do {
            try connection.send(message.encoded, descriptors: handed.map(\.descriptor))
            Output.message("hand-over: queue(s) \(message.queues) given to pid \(request.pid), still bound; stopping")
        } catch {
            Output.error("hand-over: sending the queues to pid \(request.pid): \(error); stopping (the queues unbind)")
        }
        claim.keep(connection)
        CurrentProcess.requestTermination()
    }

    /// Why a `take` is not for this daemon, nil when it is: the asking process must run the
    /// same queues in the same network namespace (another exitblock on the same socket path,
    /// for other queues or in another namespace, must not stop this one).
    static func refusal(
        of request: HandoverMessage,
        running queues: [UInt16],
        namespace: (Int32?) -> String? = CurrentProcess.networkNamespace(of:)
    ) -> String? {
        if Set(request.queues) != Set(queues) { return "this daemon runs queue(s) \(queues.sorted())" }
        let mine = namespace(nil)
        guard let mine, namespace(request.pid) == mine else {
            return "it is not in this daemon's network namespace (\(mine ?? "unknown"))"
        }
        return nil
    }

    /// Stops serving and removes the socket file (before the process exits: the new process
    /// listens there once this one is gone).
    func stop() {
        stopRequested.store(true, ordering: .relaxed)
        finished.wait()
        finished.signal()
        listener.withLock { $0 = nil }
        try? FileSystem.removeIfPresent(path)
    }
}
