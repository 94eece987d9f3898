import Engine
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import Daemon
@testable import ExitBlockCLI

/// What the fakes did, in order; shared by the steps (main thread) and the services (pool).
private final class Journal: Sendable {
    private let entries = Mutex<[String]>([])

    func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

/// A service that notes its start, runs until the group shuts down, and notes its end.
private struct WaitingService: Service {
    let name: String
    let journal: Journal

    func run() async {
        journal.add("run \(name)")
        try? await gracefulShutdown()
        journal.add("end \(name)")
    }
}

/// A service that ends at once (as the signal service does on SIGTERM), or fails.
private struct EndingService: Service {
    let journal: Journal
    var failure: (any Error)?

    func run() async throws {
        journal.add("stop requested")
        if let failure { throw failure }
    }
}

private struct Broken: Error {}

@Suite struct DaemonLifecycleTests {
    private let logger = Logger(label: "test.lifecycle")

    /// Steps a, b, c with undos; the step named `failing` throws instead.
    private func steps(
        _ sequence: StartSequence,
        _ journal: Journal,
        failing: String? = nil
    ) throws(DaemonError) {
        for name in ["a", "b", "c"] {
            try sequence.step(name, undo: { _ in journal.add("undo \(name)") }) { () throws(DaemonError) in
                journal.add("start \(name)")
                if name == failing { throw .service(.unknownUser(name)) }
            }
        }
    }

    @Test(arguments: ["a", "b", "c"])
    func aFailedStepUndoesTheStepsBeforeItInReverse(failing: String) async throws {
        let journal = Journal()
        await #expect(throws: DaemonError.self) {
            try await DaemonLifecycle(logger: logger).run { sequence throws(DaemonError) in
                try steps(sequence, journal, failing: failing)
                journal.add("services")
                return []
            }
        }
        let started = ["a", "b", "c"].prefix { $0 != failing }
        #expect(
            journal.all == started.map { "start \($0)" } + ["start \(failing)"]
                + started.reversed().map { "undo \($0)" }
        )
    }

    @Test func theServicesRunAfterTheStepsAndTheUndoAfterTheServices() async throws {
        let journal = Journal()
        try await DaemonLifecycle(logger: logger).run { sequence throws(DaemonError) in
            try steps(sequence, journal)
            return [
                .init(service: WaitingService(name: "refresher", journal: journal)),
                .init(
                    service: EndingService(journal: journal),
                    successTerminationBehavior: .gracefullyShutdownGroup
                ),
            ]
        }
        let entries = journal.all
        #expect(Array(entries.prefix(3)) == ["start a", "start b", "start c"])
        #expect(Set(entries.dropFirst(3).prefix(3)) == ["run refresher", "stop requested", "end refresher"])
        #expect(entries.firstIndex(of: "stop requested")! < entries.firstIndex(of: "end refresher")!)
        #expect(Array(entries.suffix(3)) == ["undo c", "undo b", "undo a"])
    }

    @Test func aFailedServiceStopsTheGroupAndUndoesEveryStep() async {
        let journal = Journal()
        var thrown: DaemonError?
        do {
            try await DaemonLifecycle(logger: logger).run { sequence throws(DaemonError) in
                try steps(sequence, journal)
                return [
                    .init(service: WaitingService(name: "refresher", journal: journal)),
                    .init(service: EndingService(journal: journal, failure: Broken())),
                ]
            }
        } catch {
            thrown = error
        }
        guard case .running = thrown else {
            Issue.record("expected .running, got \(String(describing: thrown))")
            return
        }
        #expect(thrown?.exitCode == 1)
        #expect(Array(journal.all.suffix(3)) == ["undo c", "undo b", "undo a"])
    }

    @Test func theTeardownRunsOnceAndStepsWithoutUndoAreSkipped() {
        var undone: [String] = []
        var traced: [String] = []
        let sequence = StartSequence { traced.append($0) }
        sequence.step("queues") { 1 }
        let value = sequence.step("stats", undo: { undone.append("stats \($0)") }) { 7 }
        sequence.onTearDown("counters") { undone.append("counters") }
        #expect(value == 7)
        #expect(sequence.finishedSteps == ["stats", "counters"])
        sequence.tearDown()
        sequence.tearDown()
        #expect(undone == ["counters", "stats 7"])
        #expect(traced == ["start queues", "start stats", "undo counters", "undo stats"])
        #expect(sequence.finishedSteps.isEmpty)
    }

    @Test func startErrorsKeepTheirMessagesAndExitCodes() {
        #expect(DaemonError.allowlist(.unreadable(path: "f", reason: "gone")).exitCode == Status.failure)
        #expect(DaemonError.privileges(.unknownUser("x")).description.hasPrefix("cannot lower privileges: "))
        #expect(DaemonError.privileges(.unknownUser("x")).exitCode == 1)
        #expect(
            DaemonError.allowlist(.unreadable(path: "f", reason: "gone")).description
                == "allowlist: f: cannot read: gone; not starting"
        )
    }
}
