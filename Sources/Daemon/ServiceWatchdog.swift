import Engine
import LinuxSystem
import ServiceLifecycle

/// Pings the service manager's watchdog (WATCHDOG=1) every half interval, but only while
/// every queue worker still turns: a worker that stops counting its heartbeat (stuck, or
/// gone) stops the pings, and the service manager restarts the daemon when the interval runs
/// out. A service of the daemon's group: it ends on graceful shutdown (no ping after that).
struct ServiceWatchdog: DaemonService {
    let notifier: ServiceNotifier
    /// The service manager's WatchdogSec; pings go every half of it.
    let interval: Duration
    let engine: Engine
    let log: @Sendable (String) -> Void

    func run() async {
        let period = interval / 2
        let seconds = Double(period.components.seconds) + Double(period.components.attoseconds) / 1e18
        await cancelWhenGracefulShutdown { [engine, notifier, log] in
            var previous = engine.heartbeats()
            var complained = false
            while !Task.isCancelled {
                do { try await Task.sleep(for: period) } catch { return }
                let current = engine.heartbeats()
                let stuck = zip(engine.configuration.queues, zip(previous, current)).filter { $0.1.0 == $0.1.1 }
                previous = current
                if stuck.isEmpty {
                    complained = false
                    try? notifier.send([("WATCHDOG", "1")])
                } else if !complained {
                    complained = true
                    let queues = stuck.map { String($0.0) }.joined(separator: ",")
                    log("watchdog: the worker of queue \(queues) has not turned for \(seconds) s; not pinging")
                }
            }
        }
    }
}
