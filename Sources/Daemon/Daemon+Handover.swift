import Engine
import ExitSet
import LinuxSystem
import ListSources
import NetfilterQueue
import Rules
import Stats
import SystemPackage

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

// The start steps that differ when the queues are taken over from a running exitblock (see
// QueueHandover): the stats socket opened once that one is gone, the queues put in the engine
// just before the workers start, and the hand-over socket served for the next restart.

extension Daemon {
    /// The process's environment (LISTEN_FDS and friends).
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The stats server (when `now`; else it opens after the hand-over), then the privilege
    /// drop. Returns the server, nil when none was opened.
    func startStatsAndLowerPrivileges(
        _ sequence: StartSequence,
        hooks: RunService,
        _ parts: (engine: Engine, recorder: StatsRecorder, ruleWatch: RuleWatch?),
        now: Bool
    ) throws(DaemonError) -> StatsServer? {
        let stats = try sequence.step("stats server", undo: { $0?.stop() }) {
            () throws(DaemonError) -> StatsServer? in
            guard now else { return nil }
            do throws(StatsServerError) { return try startStats(parts.engine, parts.recorder, parts.ruleWatch) } catch {
                throw .stats(error)
            }
        }
        // Queues bound, stats socket open: lower the privileges before any other thread starts
        // (the list fetcher's, the concurrency pool's and the workers inherit this thread's).
        try sequence.step("privileges") { () throws(DaemonError) in
            do throws(ServiceError) { try hooks.dropPrivileges(stats: stats) } catch { throw .privileges(error) }
        }
        return stats
    }

    /// The queues taken over (when a running exitblock holds them), the kernel gap said, and
    /// the workers started at once.
    func startWorkers(
        _ sequence: StartSequence,
        _ engine: Engine,
        _ handover: QueueHandover,
        set: ExitSet,
        allowlist: Allowlist
    ) throws(DaemonError) {
        try sequence.step("hand-over") { () throws(DaemonError) in
            do throws(NetfilterQueueError) { try handover.takeOver(engine: engine) } catch { throw .queues(error) }
        }
        handover.reportGap()
        sequence.step("workers", undo: { (_: Void) in engine.stop() }) {
            engine.start(initialSet: set, allowlist: allowlist.set)
        }
    }

    /// The stats server of a process that took its queues over, opened once the previous
    /// process (and its socket) is gone; its threads hold no capability. A failure is said
    /// and the daemon runs on without it: the queues are this process's now.
    func startLateStats(
        _ sequence: StartSequence,
        _ parts: (engine: Engine, recorder: StatsRecorder, ruleWatch: RuleWatch?)
    ) {
        sequence.step("stats server (after the hand-over)", undo: { $0?.stop() }) { () -> StatsServer? in
            do throws(StatsServerError) {
                let stats = try startStats(parts.engine, parts.recorder, parts.ruleWatch)
                try? stats?.runOnEachServerThread { try Privileges.restrictCurrentThread(to: .none) }
                return stats
            } catch {
                Output.error("stats: \(error); running without the stats server")
                return nil
            }
        }
    }

    /// Serves the hand-over socket for the next restart; a failure is said and the daemon
    /// runs on (a restart then binds the queues anew).
    func startHandoverListener(_ sequence: StartSequence, _ engine: Engine, _ handover: QueueHandover) {
        guard let path = configuration.handoverSocket else { return }
        sequence.step("hand-over socket", undo: { $0?.stop() }) { () -> HandoverListener? in
            do throws(Errno) {
                let listener = try HandoverListener(path: path, engine: engine, claim: handover.claim)
                Output.message("hand-over: serving \(path) for the next restart")
                return listener
            } catch {
                Output.error("hand-over: cannot listen on \(path): \(error); a restart will bind the queues anew")
                return nil
            }
        }
    }
}
