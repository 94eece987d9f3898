/// A daemon's start, step by step, with the undo of every finished step kept on a stack:
/// `tearDown()` runs them in reverse, once, whatever ended the run (a failed step, a signal,
/// a fatal error). A failed step registers no undo, so a failure at step k undoes steps
/// k-1 down to 1; the caller writes no teardown on its failure paths.
///
///     let sequence = StartSequence()
///     defer { sequence.tearDown() }
///     let engine = try sequence.step("queues", undo: { $0.stop() }) { try Engine(...) }
final class StartSequence {
    /// One finished step: its name and what undoes it.
    private struct Finished {
        var name: String
        var undo: () -> Void
    }

    private var finished: [Finished] = []
    private var tornDown = false
    private let trace: (String) -> Void

    /// `trace` hears "start NAME", "undo NAME" as they happen (for debug logs and tests).
    init(trace: @escaping (String) -> Void = { _ in }) {
        self.trace = trace
    }

    /// The names of the finished steps that have an undo, in start order.
    var finishedSteps: [String] { finished.map(\.name) }

    /// Runs `body`; once it returned, pushes `undo` (given its result), when there is one, on
    /// the stack. A step that throws pushes nothing and its error goes to the caller.
    @discardableResult
    func step<T, E: Error>(
        _ name: String,
        undo: ((T) -> Void)? = nil,
        _ body: () throws(E) -> T
    ) throws(E) -> T {
        precondition(!tornDown, "StartSequence: step \(name) after the teardown")
        trace("start \(name)")
        let value = try body()
        if let undo { finished.append(Finished(name: name) { undo(value) }) }
        return value
    }

    /// Registers an undo for something started outside a step (the service group's services
    /// stop themselves; this is for what they leave behind).
    func onTearDown(_ name: String, _ undo: @escaping () -> Void) {
        precondition(!tornDown, "StartSequence: \(name) registered after the teardown")
        finished.append(Finished(name: name, undo: undo))
    }

    /// Undoes every finished step, the last first. Safe to call more than once.
    func tearDown() {
        guard !tornDown else { return }
        tornDown = true
        while let last = finished.popLast() {
            trace("undo \(last.name)")
            last.undo()
        }
    }
}
