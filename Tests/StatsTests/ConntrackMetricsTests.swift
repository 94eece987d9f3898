import Engine
import Testing

@testable import Stats

/// The conntrack invalidator's figures in the exposition.
@Suite struct ConntrackMetricsTests {
    @Test func metricsAppearInFlowModeOnly() {
        var snapshot = StatsFixture.snapshot()
        let packetMode = String(decoding: PrometheusExposition(snapshot).bytes, as: UTF8.self)
        #expect(!packetMode.contains("exitblock_conntrack_"))
        var figures = ConntrackInvalidator.Figures()
        figures.invalidations = 2
        figures.deleted = 5
        figures.errors = 1
        figures.lastDeleted = 3
        figures.lastSeconds = 0.0125
        snapshot.conntrack = figures
        let flowMode = String(decoding: PrometheusExposition(snapshot).bytes, as: UTF8.self)
        for line in [
            "exitblock_conntrack_invalidations_total 2", "exitblock_conntrack_deleted_total 5",
            "exitblock_conntrack_already_gone_total 0", "exitblock_conntrack_errors_total 1",
            "exitblock_conntrack_last_deleted 3", "exitblock_conntrack_last_invalidation_seconds 0.013",
            "# TYPE exitblock_conntrack_deleted_total counter",
        ] {
            #expect(flowMode.contains(line + "\n"), "missing: \(line)")
        }
    }
}
