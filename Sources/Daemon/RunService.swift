import Engine
import NetfilterQueue
import LinuxSystem
import Stats
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What `run` does for the service manager and for least privilege: sd_notify messages
/// (READY, RELOADING, STOPPING, STATUS, WATCHDOG) when $NOTIFY_SOCKET is set, and lowering
/// the process to CAP_NET_ADMIN once the queues are bound and the stats socket is open.
final class RunService: Sendable {
    /// What the daemon keeps: binding queues is done by then; conntrack deletion and
    /// SO_RCVBUFFORCE need CAP_NET_ADMIN, nothing else does.
    static let keptCapabilities = CapabilitySet.netAdmin
    /// With --restore-rules, CAP_NET_RAW too: the restore's iptables-restore resolves the
    /// cache sets' names through a raw socket (xt_set's SO_IP_SET).
    static let restoringCapabilities = CapabilitySet([12, 13])
    private let keep: CapabilitySet

    private let notifier: ServiceNotifier?
    private let watchdogInterval: Duration?
    private let user: UserIdentity?
    private let stopped = Atomic<Bool>(false)

    /// Resolves `--user` (an unknown user stops the start) and opens the notification
    /// socket (a bad $NOTIFY_SOCKET is reported and ignored).
    init(user: String?, restoresRules: Bool = false) throws(ServiceError) {
        keep = restoresRules ? Self.restoringCapabilities : Self.keptCapabilities
        self.user = try user.map { name throws(ServiceError) in try Privileges.user(named: name) }
        var notifier: ServiceNotifier?
        do {
            notifier = try ServiceNotifier.fromEnvironment()
        } catch {
            Output.message("service: \(error); not notifying the service manager")
        }
        self.notifier = notifier
        watchdogInterval =
            notifier == nil
            ? nil
            : ServiceNotifier.watchdogInterval(environment: ProcessInfo.processInfo.environment, pid: CurrentProcess.id)
    }

    /// Lowers every thread that exists now (this one and the stats server's) to
    /// `keptCapabilities`, switching to `--user` when given, and logs what was kept. Threads
    /// started afterwards (the queue workers) inherit this thread's state.
    func dropPrivileges(stats: StatsServer?) throws(ServiceError) {
        let main = try Privileges.restrictCurrentThread(to: keep, switchingTo: user)
        // The stats server's thread needs no capability at all.
        do {
            try stats?.runOnEachServerThread { try Privileges.restrictCurrentThread(to: .none) }
        } catch let error as ServiceError {
            throw error
        } catch {
            throw .syscall("stats server thread", .invalidArgument)
        }
        var line = "privileges: uid \(main.uid) gid \(main.gid)"
        if let user { line += " (\(user.name))" }
        line += "; keeping \(main.effective) (effective and permitted); bounding set \(main.bounding)"
        line += main.noNewPrivileges ? "; no_new_privs set" : ""
        Output.message(line)
        if !main.effective.isSuperset(of: keep) {
            Output.message(
                "privileges: \(keep.subtracting(main.effective)) was not held at start; "
                    + "conntrack deletion and SO_RCVBUFFORCE will fail"
            )
        }
        for thread in Self.threadsHolding(moreThan: keep) {
            Output.message("privileges: thread \(thread.id) (\(thread.name)) still holds \(thread.capabilities)")
        }
    }

    /// READY=1 with a status line.
    func ready(status: String) {
        notify([("READY", "1"), ("STATUS", status)])
    }

    /// The watchdog pings for the daemon's service group, when the service manager asked for
    /// them (WatchdogSec); nil otherwise.
    func watchdog(engine: Engine) -> ServiceWatchdog? {
        guard let notifier, let watchdogInterval else { return nil }
        Output.message("service: watchdog every \(watchdogInterval / 2)")
        return ServiceWatchdog(notifier: notifier, interval: watchdogInterval, engine: engine) { Output.message($0) }
    }

    /// RELOADING=1 at the start of a SIGHUP reload.
    func reloading() {
        notify([
            ("RELOADING", "1"), ("STATUS", "reloading the lists"),
            ("MONOTONIC_USEC", "\(ServiceNotifier.monotonicMicroseconds())"),
        ])
    }

    /// Sends READY=1 again when a reload is over (whether the new set was taken or refused);
    /// callable from any thread.
    func reloadedNotifier() -> @Sendable (_ status: String) -> Void {
        let notifier = notifier
        return { status in
            guard let notifier else { return }
            do {
                try notifier.send([("READY", "1"), ("STATUS", status)])
            } catch {
                Output.message("service: cannot notify \(notifier.address): \(error)")
            }
        }
    }

    /// At the stop, under a service manager that keeps descriptors for the service ($FDSTORE,
    /// set by systemd 254 and later from FileDescriptorStoreMax=): the workers stop leaving
    /// their queues bound, and each queue's socket goes to the store (FDSTORE=1,
    /// FDNAME=nfqueue-N), which passes it to the next start (see StoredQueues). The kernel
    /// keeps queueing meanwhile; a stop for good closes the store, and so unbinds.
    func storeQueues(_ engine: Engine, claim: HandoverClaim) {
        guard let notifier, let size = ProcessInfo.processInfo.environment["FDSTORE"].flatMap({ Int($0) }),
            size >= engine.configuration.queues.count, claim.take()
        else { return }
        var stored: [UInt16] = []
        for (queue, descriptor) in engine.handOver() {
            do {
                try notifier.send([("FDSTORE", "1"), ("FDNAME", StoredQueues.name(queue))], descriptors: [descriptor])
                stored.append(queue)
            } catch {
                Output.error("service: cannot store queue \(queue) in the descriptor store: \(error)")
            }
        }
        Output.message("service: queue(s) \(stored) kept bound in the service manager's descriptor store")
    }

    /// STOPPING=1 on SIGTERM or SIGINT, or when the daemon stops for another reason; sent
    /// once, however often called.
    func stopping() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        notify([("STOPPING", "1"), ("STATUS", "stopping")])
    }

    private func notify(_ fields: [(key: String, value: String)]) {
        guard let notifier else { return }
        do {
            try notifier.send(fields)
        } catch {
            Output.message("service: cannot notify \(notifier.address): \(error)")
        }
    }

    /// The threads of this process whose effective or permitted set holds more than `allowed`
    /// (from /proc/self/task/*/status).
    static func threadsHolding(moreThan allowed: CapabilitySet) -> [(
        id: String, name: String, capabilities: CapabilitySet
    )] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var found: [(id: String, name: String, capabilities: CapabilitySet)] = []
        for task in tasks.sorted() {
            guard let status = try? String(contentsOfFile: "/proc/self/task/\(task)/status", encoding: .utf8) else {
                continue
            }
            var name = "?"
            var held = CapabilitySet.none
            for line in status.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingWhitespace() }
                guard parts.count == 2 else { continue }
                if parts[0] == "Name" { name = parts[1] }
                if parts[0] == "CapEff" || parts[0] == "CapPrm", let mask = UInt64(parts[1], radix: 16) {
                    held.rawValue |= mask
                }
            }
            let extra = held.subtracting(allowed)
            if !extra.isEmpty { found.append((task, name, extra)) }
        }
        return found
    }
}
