import Dispatch
import Engine
import LinuxSystem
import Stats

/// In dry-run, logs every `interval` seconds (when it changed) how many packets would have
/// been dropped and the most seen listed addresses. Runs on its own dispatch queue, off the
/// workers' threads; reads the counters like the stats server does.
final class DryRunLog {
    private let timer: DispatchSourceTimer

    init(engine: Engine, interval: Int) {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "exitblock.dry-run-log"))
        // Only the timer's serial queue touches `last`.
        nonisolated(unsafe) var last: UInt64 = 0
        timer.setEventHandler {
            let total = engine.totalCounters()
            guard total[.wouldDrop] != last else { return }
            let added = total[.wouldDrop] &- last
            last = total[.wouldDrop]
            Output.message(
                "\(ModeReport.wouldDropText(total)) so far, \(added) in the last \(interval) s; top listed: "
                    + ModeReport.topText(engine.topListed(limit: MetricsSnapshot.topListedLimit))
            )
        }
        timer.schedule(deadline: .now() + .seconds(interval), repeating: .seconds(interval))
        timer.resume()
        self.timer = timer
    }

    func stop() {
        timer.cancel()
    }
}
