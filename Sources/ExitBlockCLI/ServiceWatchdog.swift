import ExitBlock
import Foundation
import NetfilterQueue
import Synchronization
import LinuxSystem

/// Pings the service manager's watchdog (WATCHDOG=1) every half interval from a thread of
/// its own, but only while every queue worker still turns: a worker that stops counting
/// its heartbeat (stuck, or gone) stops the pings, and the service manager restarts the
/// daemon when the interval runs out.
final class ServiceWatchdog: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)

    init(notifier: ServiceNotifier, interval: Duration, engine: Engine, log: @escaping @Sendable (String) -> Void) {
        let period = interval / 2
        let seconds = Double(period.components.seconds) + Double(period.components.attoseconds) / 1e18
        let thread = Thread { [self] in
            var previous = engine.heartbeats()
            var complained = false
            while !stopped.load(ordering: .relaxed) {
                _ = wake.wait(timeout: .now() + seconds)
                if stopped.load(ordering: .relaxed) { break }
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
        thread.name = "exitblock-watchdog"
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        wake.signal()
    }
}
