import BGPFeed
import ExitSet
import LinuxSystem

extension MetricsSnapshot {
    /// The figures of `exitblock bgp`: no queue, the set last handed to the feed, the sources,
    /// and the feed's own figures.
    public static func take(
        bgp: BGPFigures,
        set: ExitSet,
        setVersion: UInt64,
        recorder: StatsRecorder,
        allowlist: ExitSet,
        now: Double = WallClock.now()
    ) -> MetricsSnapshot {
        MetricsSnapshot(
            time: now,
            processStart: recorder.processStart,
            queues: [],
            set: SetFigures(
                ipv4Entries: set.ipv4Count,
                ipv6Entries: set.ipv6Count,
                version: setVersion,
                published: recorder.observe(setVersion: setVersion, at: now),
                rebuilds: recorder.rebuilds
            ),
            sources: recorder.sources,
            refusals: recorder.refusals,
            kernelTableReadable: false,
            policy: PolicyFigures(
                allowlistIPv4Entries: allowlist.ipv4Count,
                allowlistIPv6Entries: allowlist.ipv6Count
            ),
            bgp: bgp
        )
    }
}
