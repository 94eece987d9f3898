import ServiceLifecycle
import UnixSignals

/// The daemon's signals as a service of its group: SIGHUP calls `reload` and goes on;
/// SIGTERM or SIGINT calls `stop` and ends the service, which (configured with
/// `successTerminationBehavior: .gracefullyShutdownGroup`) shuts the whole group down
/// gracefully. The signals must be blocked in every thread before any starts (SignalWaiter's
/// init), so none is lost or kills the process before this service traps it.
struct SignalService: Service {
    let reload: @Sendable () -> Void
    /// Gets the signal's number ("signal 15: stopping").
    let stop: @Sendable (Int32) -> Void

    func run() async {
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigterm, .sigint)
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
