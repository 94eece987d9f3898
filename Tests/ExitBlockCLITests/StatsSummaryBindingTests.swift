import Engine
import Stats
import Testing

@testable import ExitBlockCLI

/// The state column of `exitblock stats` and `top`: a queue's binding and its rebinds.
@Suite struct StatsSummaryBindingTests {
    private func queue(kernel: Bool, unboundSeconds: Double?, rebinds: UInt64) -> MetricsSnapshot.Queue {
        var values = CounterValues()
        values[.rebinds] = rebinds
        return MetricsSnapshot.Queue(
            queue: 3,
            values: values,
            maxLength: 4096,
            kernel: kernel ? MetricsSnapshot.Kernel(waiting: 0, queueDropped: 0, userDropped: 0, portID: 9) : nil,
            unboundSeconds: unboundSeconds
        )
    }

    @Test func stateColumn() {
        #expect(StatsSummary.bindingState(queue(kernel: true, unboundSeconds: nil, rebinds: 0)) == "bound")
        #expect(StatsSummary.bindingState(queue(kernel: true, unboundSeconds: nil, rebinds: 2)) == "bound (2 rebinds)")
        #expect(
            StatsSummary.bindingState(queue(kernel: false, unboundSeconds: 1.26, rebinds: 1))
                == "UNBOUND 1.3s (1 rebinds)"
        )
        #expect(StatsSummary.bindingState(queue(kernel: false, unboundSeconds: nil, rebinds: 0)) == "NOT BOUND")
    }
}
