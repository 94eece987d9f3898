import LinuxSystem
import Logging
import ServiceLifecycle

/// The shape of a daemon's life, with no knowledge of what it runs: the start steps in order
/// (the privileged setup, synchronous, on the calling thread), then the services in one
/// swift-service-lifecycle `ServiceGroup` until it shuts down (gracefully when a service
/// asks for it, a signal say), then every finished step undone in reverse. The undo runs on
/// every path: a failed step (only the steps before it), the end of the group, a failed
/// service.
struct DaemonLifecycle {
    /// The group's logger (service start and stop, at debug level).
    var logger: Logger
    /// Hears each step start and undo (see StartSequence).
    var trace: (String) -> Void = { _ in }

    /// Runs `start`, which takes the steps on the sequence and returns the services to run
    /// once they are all done; then runs the services; then undoes the steps. The steps and
    /// their undo run on the calling thread (the main thread: the privilege drop is per
    /// thread), the services on the concurrency pool. Throws what `start` threw (after
    /// undoing the steps before it), or `.running` when a service failed.
    func run(
        start: (StartSequence) throws(DaemonError) -> [ServiceGroupConfiguration.ServiceConfiguration]
    ) throws(DaemonError) {
        let sequence = StartSequence(trace: trace)
        defer { sequence.tearDown() }
        let services = try start(sequence)
        let logger = logger
        try Blocking.wait { () async throws(DaemonError) -> Void in try await Self.runGroup(services, logger: logger) }
    }

    /// The same from an async context (tests: a blocked thread of the pool could starve the
    /// group's tasks).
    func run(
        start: (StartSequence) throws(DaemonError) -> [ServiceGroupConfiguration.ServiceConfiguration]
    ) async throws(DaemonError) {
        let sequence = StartSequence(trace: trace)
        defer { sequence.tearDown() }
        let services = try start(sequence)
        try await Self.runGroup(services, logger: logger)
    }

    /// Runs `services` in one group until it ends.
    private static func runGroup(
        _ services: [ServiceGroupConfiguration.ServiceConfiguration],
        logger: Logger
    ) async throws(DaemonError) {
        guard !services.isEmpty else { return }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
        do {
            try await group.run()
        } catch {
            throw .running(error)
        }
    }
}
