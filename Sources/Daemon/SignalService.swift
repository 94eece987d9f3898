import LinuxSystem
import ServiceLifecycle
import UnixSignals

/// The daemon's signals as a service of its group: SIGHUP calls `reload` and goes on;
/// SIGTERM or SIGINT calls `stop` and ends the service, which (configured with
/// `successTerminationBehavior: .gracefullyShutdownGroup`) shuts the whole group down
/// gracefully. The signals must be blocked in every thread before any starts
/// (`blockSignals()`), so none is lost or kills the process before this service traps it.
struct SignalService: DaemonService {
    /// The signals the service takes.
    static let signals: [UnixSignal] = [.sighup, .sigterm, .sigint]

    /// Blocks `signals` in the calling thread, so every thread started from it inherits the
    /// mask: no handler runs at an arbitrary point, and a signal that arrives before the
    /// service traps it stays pending for it (dispatch reads them through a signalfd). Call it
    /// first, before any thread starts.
    static func blockSignals() {
        CurrentProcess.blockSignals(signals.map(\.rawValue))
    }

    let reload: @Sendable () -> Void
    /// Gets the signal's number ("signal 15: stopping").
    let stop: @Sendable (Int32) -> Void

    func run() async {
        let signals = await UnixSignalsSequence(trapping: Self.signals)
        for await signal in signals.cancelOnGracefulShutdown() {
            if signal == .sighup {
                reload()
                continue
            }
            stop(signal.rawValue)
            return
        }
    }
}
