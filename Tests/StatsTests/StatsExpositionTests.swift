import BGPFeed
import Engine
import Foundation
import Stats
import Testing
import VerdictCache

@Suite struct StatsExpositionTests {
    @Test func exactOutputForAFixedSnapshot() throws {
        let text = String(decoding: PrometheusExposition(StatsFixture.snapshot()).bytes, as: UTF8.self)
        if text != Self.golden {
            try? text.write(toFile: "/tmp/exitblock-exposition-actual.txt", atomically: true, encoding: .utf8)
        }
        #expect(text == Self.golden)
    }

    @Test func everyFamilyHasHelpAndTypeAndCountersEndInTotal() {
        let text = String(decoding: PrometheusExposition(StatsFixture.snapshot()).bytes, as: UTF8.self)
        let lines = text.split(separator: "\n")
        let types = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ") }
        let helps = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
        for type in types {
            #expect(helps.contains(type[2]), "no HELP for \(type[2])")
            #expect(type[2].hasPrefix("exitblock_"))
            if type[3] == "counter" { #expect(type[2].hasSuffix("_total")) }
        }
        // Every sample belongs to the family declared just before it.
        var family = ""
        for line in lines {
            if line.hasPrefix("# TYPE ") { family = String(line.split(separator: " ")[2]) }
            if line.hasPrefix("#") { continue }
            #expect(line.hasPrefix(family), "\(line) outside \(family)")
        }
    }

    @Test func unreadableKernelTableIsNotAnUnboundQueue() {
        var snapshot = StatsFixture.snapshot()
        snapshot.kernelTableReadable = false
        for index in snapshot.queues.indices { snapshot.queues[index].kernel = nil }
        let text = String(decoding: PrometheusExposition(snapshot).bytes, as: UTF8.self)
        #expect(text.contains("exitblock_kernel_table_readable 0\n"))
        #expect(text.contains("exitblock_queue_bound{queue=\"1\"} 1\n"))
        #expect(snapshot.problems.isEmpty)
    }

    /// A queue without a binding makes the daemon unhealthy only after a second: a rebind
    /// takes milliseconds.
    @Test func anUnboundQueueIsAProblemAfterOneSecond() {
        var snapshot = StatsFixture.snapshot()
        for (seconds, rendered, problem) in [
            (0.0, "0", nil), (0.9, "0.9", nil), (1.0, "1", nil), (1.04, "1.04", "queue 1 unbound for 1.1 s"),
            (12.345, "12.345", "queue 1 unbound for 12.4 s"),
        ] as [(Double, String, String?)] {
            snapshot.queues[1].unboundSeconds = seconds
            #expect(snapshot.problems == (problem.map { [$0] } ?? []), "\(seconds) s")
            let text = String(decoding: PrometheusExposition(snapshot).bytes, as: UTF8.self)
            #expect(text.contains("exitblock_queue_bound{queue=\"1\"} 0\n"))
            #expect(text.contains("exitblock_queue_unbound_seconds{queue=\"1\"} \(rendered)\n"))
        }
        snapshot.queues[1].unboundSeconds = nil
        #expect(snapshot.problems.isEmpty)
    }

    @Test func unboundQueueHasNoKernelSamples() {
        let text = String(decoding: PrometheusExposition(StatsFixture.snapshot(bound: false)).bytes, as: UTF8.self)
        #expect(text.contains("exitblock_queue_bound{queue=\"1\"} 0\n"))
        #expect(!text.contains("exitblock_kernel_queue_length{queue=\"1\"}"))
        #expect(text.contains("exitblock_healthy 0\n"))
    }

    @Test func burstSizeClasses() {
        let expected = [
            (1, 0), (2, 1), (3, 1), (4, 2), (7, 2), (8, 3), (15, 3), (16, 4), (31, 4), (32, 5), (63, 5), (64, 6),
            (1000, 6),
        ]
        for (size, bucket) in expected { #expect(BurstSizeCounts.bucket(forSize: size) == bucket, "size \(size)") }
    }

    @Test func promtoolAcceptsTheOutput() throws {
        let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let promtool else { return }  // Not installed: the format checks above still hold.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(PrometheusExposition(StatsFixture.snapshot()).bytes))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "promtool: \(said)")
        #expect(said.isEmpty, "promtool: \(said)")
    }

    /// The families of flow mode, `exitblock bgp` and the drop cache, exactly as before they
    /// were data (the fixed snapshot has none of them).
    @Test func modeSectionsExactOutput() throws {
        var snapshot = StatsFixture.snapshot()
        var conntrack = ConntrackInvalidator.Figures()
        conntrack.invalidations = 3
        conntrack.deleted = 5
        conntrack.alreadyGone = 1
        conntrack.lastDeleted = 2
        conntrack.lastSeconds = 0.125
        snapshot.conntrack = conntrack
        var bgp = BGPFigures(speaker: "exabgp", style: "flowspec", maximumRoutes: 100)
        bgp.ipv4Routes = 4
        bgp.ipv6Routes = 1
        bgp.announced = 7
        bgp.withdrawn = 2
        bgp.syncs = 3
        bgp.lastSync = 1_700_000_050
        bgp.refused = ["too_many": 1]
        snapshot.bgp = bgp
        var cache = DropCache.Figures()
        cache.kernelDrops = [.ipv4: 11, .ipv6: 4]
        cache.entries = [.ipv4: 2, .ipv6: 1]
        cache.prunes = 2
        cache.entriesDeleted = 1
        cache.adds = 6
        cache.staleAdds = 1
        var accept = DropCache.AcceptFigures()
        accept.kernelAccepts = [.ipv4: 900, .ipv6: 30]
        accept.entries = [.ipv4: 40, .ipv6: 3]
        accept.adds = 50
        accept.full = 2
        accept.entriesDeleted = 1
        cache.accept = accept
        snapshot.dropCache = MetricsSnapshot.DropCacheFigures(cache)
        let text = String(decoding: PrometheusExposition(snapshot).bytes, as: UTF8.self)
        let start = try #require(text.range(of: "# HELP exitblock_conntrack_invalidations_total"))
        let end = try #require(text.range(of: "# HELP exitblock_healthy "))
        #expect(String(text[start.lowerBound..<end.lowerBound]) == Self.modeGolden)
    }

    /// The metric table of docs/metrics.md lists every exported family, with its type and
    /// labels, and no other.
    @Test func metricsTableMatchesTheCatalog() throws {
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/metrics.md")
        let text = try String(contentsOf: document, encoding: .utf8)
        let catalog = Dictionary(uniqueKeysWithValues: MetricCatalog.families.map { ($0.name, $0) })
        var listed: Set<String> = []
        for line in text.split(separator: "\n") where line.hasPrefix("| `exitblock_") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            let name = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let family = try #require(catalog[name], "docs/metrics.md lists \(name), which is not exported")
            #expect(family.kind.rawValue == cells[2], "\(name)")
            let labels = cells[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(labels == family.labels + (family.kind == .histogram ? ["le"] : []), "\(name)")
            listed.insert(name)
        }
        #expect(listed == Set(catalog.keys), "docs/metrics.md's table and MetricCatalog differ")
    }

    /// Names are unique, counters end in `_total`, every family has a help text.
    @Test func catalogIsWellFormed() {
        let names = MetricCatalog.families.map(\.name)
        #expect(Set(names).count == names.count)
        for family in MetricCatalog.families {
            #expect(family.name.hasPrefix("exitblock_"))
            #expect(!family.help.isEmpty)
            if family.kind == .counter { #expect(family.name.hasSuffix("_total"), "\(family.name)") }
        }
    }

    static let modeGolden = #"""
        # HELP exitblock_conntrack_invalidations_total Publishes in flow mode where the set grew, so the conntrack table was searched.
        # TYPE exitblock_conntrack_invalidations_total counter
        exitblock_conntrack_invalidations_total 3
        # HELP exitblock_conntrack_deleted_total Conntrack entries of newly listed addresses deleted (their flows are judged again).
        # TYPE exitblock_conntrack_deleted_total counter
        exitblock_conntrack_deleted_total 5
        # HELP exitblock_conntrack_already_gone_total Conntrack entries that were gone when exitblock deleted them.
        # TYPE exitblock_conntrack_already_gone_total counter
        exitblock_conntrack_already_gone_total 1
        # HELP exitblock_conntrack_errors_total Failed conntrack invalidations (socket, permission, dump) and refused deletions.
        # TYPE exitblock_conntrack_errors_total counter
        exitblock_conntrack_errors_total 0
        # HELP exitblock_conntrack_last_deleted Conntrack entries deleted by the last invalidation.
        # TYPE exitblock_conntrack_last_deleted gauge
        exitblock_conntrack_last_deleted 2
        # HELP exitblock_conntrack_last_invalidation_seconds Seconds the last invalidation took (dump, filter, delete).
        # TYPE exitblock_conntrack_last_invalidation_seconds gauge
        exitblock_conntrack_last_invalidation_seconds 0.125
        # HELP exitblock_bgp_routes Routes in force at the BGP speaker, by family.
        # TYPE exitblock_bgp_routes gauge
        exitblock_bgp_routes{family="ipv4"} 4
        exitblock_bgp_routes{family="ipv6"} 1
        # HELP exitblock_bgp_announced_total Routes announced since start.
        # TYPE exitblock_bgp_announced_total counter
        exitblock_bgp_announced_total 7
        # HELP exitblock_bgp_withdrawn_total Routes withdrawn since start.
        # TYPE exitblock_bgp_withdrawn_total counter
        exitblock_bgp_withdrawn_total 2
        # HELP exitblock_bgp_syncs_total Updates the BGP speaker took since start.
        # TYPE exitblock_bgp_syncs_total counter
        exitblock_bgp_syncs_total 3
        # HELP exitblock_bgp_max_routes --max-routes (0: no limit).
        # TYPE exitblock_bgp_max_routes gauge
        exitblock_bgp_max_routes 100
        # HELP exitblock_bgp_last_sync_timestamp_seconds Unix time of the last update taken.
        # TYPE exitblock_bgp_last_sync_timestamp_seconds gauge
        exitblock_bgp_last_sync_timestamp_seconds 1700000050
        # HELP exitblock_bgp_refused_updates_total Updates refused (the routes in force stayed), by reason.
        # TYPE exitblock_bgp_refused_updates_total counter
        exitblock_bgp_refused_updates_total{reason="too_many"} 1
        # HELP exitblock_bgp_info Always 1; the labels say which speaker and style.
        # TYPE exitblock_bgp_info gauge
        exitblock_bgp_info{speaker="exabgp",style="flowspec"} 1
        # HELP exitblock_drop_cache_kernel_drops_total Packets of cached listed addresses dropped (or marked for REJECT) in the kernel, never queued (the cache entries' counters; a lower bound).
        # TYPE exitblock_drop_cache_kernel_drops_total counter
        exitblock_drop_cache_kernel_drops_total{family="ipv4"} 11
        exitblock_drop_cache_kernel_drops_total{family="ipv6"} 4
        # HELP exitblock_drop_cache_entries Addresses in the kernel's drop cache, by family.
        # TYPE exitblock_drop_cache_entries gauge
        exitblock_drop_cache_entries{family="ipv4"} 2
        exitblock_drop_cache_entries{family="ipv6"} 1
        # HELP exitblock_drop_cache_prunes_total Publishes that pruned the drop cache.
        # TYPE exitblock_drop_cache_prunes_total counter
        exitblock_drop_cache_prunes_total 2
        # HELP exitblock_drop_cache_deleted_total Drop cache entries deleted because a publish de-listed or allowlisted their address.
        # TYPE exitblock_drop_cache_deleted_total counter
        exitblock_drop_cache_deleted_total 1
        # HELP exitblock_drop_cache_errors_total Failed ipset runs, netlink sends and adds.
        # TYPE exitblock_drop_cache_errors_total counter
        exitblock_drop_cache_errors_total 0
        # HELP exitblock_drop_cache_adds_total Addresses the daemon put into the drop cache (new entries and renewals).
        # TYPE exitblock_drop_cache_adds_total counter
        exitblock_drop_cache_adds_total 6
        # HELP exitblock_drop_cache_stale_adds_total Cache adds thrown away because a publish replaced the sets that judged them.
        # TYPE exitblock_drop_cache_stale_adds_total counter
        exitblock_drop_cache_stale_adds_total 1
        # HELP exitblock_accept_cache_kernel_accepts_total Packets of cached clean addresses accepted in the kernel, never queued (the cache entries' counters; a lower bound).
        # TYPE exitblock_accept_cache_kernel_accepts_total counter
        exitblock_accept_cache_kernel_accepts_total{family="ipv4"} 900
        exitblock_accept_cache_kernel_accepts_total{family="ipv6"} 30
        # HELP exitblock_accept_cache_entries Addresses in the kernel's accept cache, by family.
        # TYPE exitblock_accept_cache_entries gauge
        exitblock_accept_cache_entries{family="ipv4"} 40
        exitblock_accept_cache_entries{family="ipv6"} 3
        # HELP exitblock_accept_cache_adds_total Addresses the daemon put into the accept cache (new entries and renewals).
        # TYPE exitblock_accept_cache_adds_total counter
        exitblock_accept_cache_adds_total 50
        # HELP exitblock_accept_cache_full_total Accept cache adds the kernel refused because the set was full (the packets stay queued).
        # TYPE exitblock_accept_cache_full_total counter
        exitblock_accept_cache_full_total 2
        # HELP exitblock_accept_cache_deleted_total Accept cache entries deleted because a publish listed their address.
        # TYPE exitblock_accept_cache_deleted_total counter
        exitblock_accept_cache_deleted_total 1

        """#

    static let golden = #"""
        # HELP exitblock_packets_total Packets given a verdict, by queue and address family.
        # TYPE exitblock_packets_total counter
        exitblock_packets_total{queue="0",family="ipv4"} 10
        exitblock_packets_total{queue="0",family="ipv6"} 8
        exitblock_packets_total{queue="0",family="unparsable"} 2
        exitblock_packets_total{queue="1",family="ipv4"} 0
        exitblock_packets_total{queue="1",family="ipv6"} 0
        exitblock_packets_total{queue="1",family="unparsable"} 0
        # HELP exitblock_packets_accepted_total Packets answered ACCEPT, by queue and family.
        # TYPE exitblock_packets_accepted_total counter
        exitblock_packets_accepted_total{queue="0",family="ipv4"} 6
        exitblock_packets_accepted_total{queue="0",family="ipv6"} 5
        exitblock_packets_accepted_total{queue="0",family="unparsable"} 1
        exitblock_packets_accepted_total{queue="1",family="ipv4"} 0
        exitblock_packets_accepted_total{queue="1",family="ipv6"} 0
        exitblock_packets_accepted_total{queue="1",family="unparsable"} 0
        # HELP exitblock_packets_dropped_total Packets answered DROP, by queue and family.
        # TYPE exitblock_packets_dropped_total counter
        exitblock_packets_dropped_total{queue="0",family="ipv4"} 3
        exitblock_packets_dropped_total{queue="0",family="ipv6"} 2
        exitblock_packets_dropped_total{queue="0",family="unparsable"} 1
        exitblock_packets_dropped_total{queue="1",family="ipv4"} 0
        exitblock_packets_dropped_total{queue="1",family="ipv6"} 0
        exitblock_packets_dropped_total{queue="1",family="unparsable"} 0
        # HELP exitblock_packets_rejected_total Packets answered ACCEPT with the reject mark set (--reject), by queue and family.
        # TYPE exitblock_packets_rejected_total counter
        exitblock_packets_rejected_total{queue="0",family="ipv4"} 1
        exitblock_packets_rejected_total{queue="0",family="ipv6"} 1
        exitblock_packets_rejected_total{queue="0",family="unparsable"} 0
        exitblock_packets_rejected_total{queue="1",family="ipv4"} 0
        exitblock_packets_rejected_total{queue="1",family="ipv6"} 0
        exitblock_packets_rejected_total{queue="1",family="unparsable"} 0
        # HELP exitblock_packets_allowlisted_total Packets accepted because their source or destination is allowlisted, by queue and family.
        # TYPE exitblock_packets_allowlisted_total counter
        exitblock_packets_allowlisted_total{queue="0",family="ipv4"} 2
        exitblock_packets_allowlisted_total{queue="0",family="ipv6"} 1
        exitblock_packets_allowlisted_total{queue="0",family="unparsable"} 0
        exitblock_packets_allowlisted_total{queue="1",family="ipv4"} 0
        exitblock_packets_allowlisted_total{queue="1",family="ipv6"} 0
        exitblock_packets_allowlisted_total{queue="1",family="unparsable"} 0
        # HELP exitblock_would_drop_packets_total Packets accepted in dry-run that enforcing would have dropped or rejected, by queue and family.
        # TYPE exitblock_would_drop_packets_total counter
        exitblock_would_drop_packets_total{queue="0",family="ipv4"} 0
        exitblock_would_drop_packets_total{queue="0",family="ipv6"} 0
        exitblock_would_drop_packets_total{queue="0",family="unparsable"} 0
        exitblock_would_drop_packets_total{queue="1",family="ipv4"} 0
        exitblock_would_drop_packets_total{queue="1",family="ipv6"} 0
        exitblock_would_drop_packets_total{queue="1",family="unparsable"} 0
        # HELP exitblock_verdict_send_errors_total Failed sends of verdict messages.
        # TYPE exitblock_verdict_send_errors_total counter
        exitblock_verdict_send_errors_total{queue="0"} 0
        exitblock_verdict_send_errors_total{queue="1"} 5
        # HELP exitblock_verdict_resends_total Verdict batches sent again after a transient send failure.
        # TYPE exitblock_verdict_resends_total counter
        exitblock_verdict_resends_total{queue="0"} 0
        exitblock_verdict_resends_total{queue="1"} 4
        # HELP exitblock_single_verdicts_total Packets answered one by one because their verdict batch could not be sent.
        # TYPE exitblock_single_verdicts_total counter
        exitblock_single_verdicts_total{queue="0"} 0
        exitblock_single_verdicts_total{queue="1"} 2
        # HELP exitblock_deferred_verdicts_total Packets whose verdict could not be sent yet and went out with a later send.
        # TYPE exitblock_deferred_verdicts_total counter
        exitblock_deferred_verdicts_total{queue="0"} 0
        exitblock_deferred_verdicts_total{queue="1"} 1
        # HELP exitblock_verdict_errors_total Kernel error answers to verdict messages.
        # TYPE exitblock_verdict_errors_total counter
        exitblock_verdict_errors_total{queue="0"} 0
        exitblock_verdict_errors_total{queue="1"} 0
        # HELP exitblock_enobufs_total Receive buffer overruns (ENOBUFS): the kernel lost packets to us.
        # TYPE exitblock_enobufs_total counter
        exitblock_enobufs_total{queue="0"} 1
        exitblock_enobufs_total{queue="1"} 0
        # HELP exitblock_receive_errors_total Failed receive calls other than ENOBUFS.
        # TYPE exitblock_receive_errors_total counter
        exitblock_receive_errors_total{queue="0"} 0
        exitblock_receive_errors_total{queue="1"} 0
        # HELP exitblock_malformed_messages_total Netlink messages that could not be read.
        # TYPE exitblock_malformed_messages_total counter
        exitblock_malformed_messages_total{queue="0"} 0
        exitblock_malformed_messages_total{queue="1"} 0
        # HELP exitblock_truncated_datagrams_total Datagrams larger than their receive slot.
        # TYPE exitblock_truncated_datagrams_total counter
        exitblock_truncated_datagrams_total{queue="0"} 0
        exitblock_truncated_datagrams_total{queue="1"} 0
        # HELP exitblock_burst_overflow_total Packets that did not fit the receive burst.
        # TYPE exitblock_burst_overflow_total counter
        exitblock_burst_overflow_total{queue="0"} 0
        exitblock_burst_overflow_total{queue="1"} 0
        # HELP exitblock_reject_returned_total Listed packets that came back with the reject mark (no REJECT rule matched it) and were dropped.
        # TYPE exitblock_reject_returned_total counter
        exitblock_reject_returned_total{queue="0"} 1
        exitblock_reject_returned_total{queue="1"} 0
        # HELP exitblock_packets_outside_policy_total Packets of listed addresses accepted because the exit's port policy does not cover their port.
        # TYPE exitblock_packets_outside_policy_total counter
        exitblock_packets_outside_policy_total{queue="0"} 0
        exitblock_packets_outside_policy_total{queue="1"} 0
        # HELP exitblock_policy_ports_unread_total Listed TCP/UDP packets judged on the address alone: their ports were not in the copied bytes.
        # TYPE exitblock_policy_ports_unread_total counter
        exitblock_policy_ports_unread_total{queue="0"} 0
        exitblock_policy_ports_unread_total{queue="1"} 0
        # HELP exitblock_burst_size_packets Packets per receive burst (each burst is answered with one send).
        # TYPE exitblock_burst_size_packets histogram
        exitblock_burst_size_packets_bucket{queue="0",le="1"} 2
        exitblock_burst_size_packets_bucket{queue="0",le="3"} 2
        exitblock_burst_size_packets_bucket{queue="0",le="7"} 3
        exitblock_burst_size_packets_bucket{queue="0",le="15"} 4
        exitblock_burst_size_packets_bucket{queue="0",le="31"} 4
        exitblock_burst_size_packets_bucket{queue="0",le="63"} 4
        exitblock_burst_size_packets_bucket{queue="0",le="+Inf"} 4
        exitblock_burst_size_packets_sum{queue="0"} 20
        exitblock_burst_size_packets_count{queue="0"} 4
        exitblock_burst_size_packets_bucket{queue="1",le="1"} 0
        exitblock_burst_size_packets_bucket{queue="1",le="3"} 0
        exitblock_burst_size_packets_bucket{queue="1",le="7"} 0
        exitblock_burst_size_packets_bucket{queue="1",le="15"} 0
        exitblock_burst_size_packets_bucket{queue="1",le="31"} 0
        exitblock_burst_size_packets_bucket{queue="1",le="63"} 0
        exitblock_burst_size_packets_bucket{queue="1",le="+Inf"} 0
        exitblock_burst_size_packets_sum{queue="1"} 0
        exitblock_burst_size_packets_count{queue="1"} 0
        # HELP exitblock_kernel_table_readable 1 when the kernel's queue table (/proc/net/netfilter/nfnetlink_queue) can be read, else 0.
        # TYPE exitblock_kernel_table_readable gauge
        exitblock_kernel_table_readable 1
        # HELP exitblock_queue_bound 1 while this process has the queue bound (checked against the kernel's table), else 0.
        # TYPE exitblock_queue_bound gauge
        exitblock_queue_bound{queue="0"} 1
        exitblock_queue_bound{queue="1"} 1
        # HELP exitblock_queue_unbound_seconds Seconds since the queue lost its binding (the daemon is binding it again); 0 while bound.
        # TYPE exitblock_queue_unbound_seconds gauge
        exitblock_queue_unbound_seconds{queue="0"} 0
        exitblock_queue_unbound_seconds{queue="1"} 0
        # HELP exitblock_queue_rebinds_total Times the queue was bound again after its binding was lost.
        # TYPE exitblock_queue_rebinds_total counter
        exitblock_queue_rebinds_total{queue="0"} 0
        exitblock_queue_rebinds_total{queue="1"} 0
        # HELP exitblock_queue_rebind_failures_total Attempts to bind the queue again that were refused (for example: another process holds it).
        # TYPE exitblock_queue_rebind_failures_total counter
        exitblock_queue_rebind_failures_total{queue="0"} 0
        exitblock_queue_rebind_failures_total{queue="1"} 0
        # HELP exitblock_kernel_queue_length Packets waiting in the kernel queue for a verdict.
        # TYPE exitblock_kernel_queue_length gauge
        exitblock_kernel_queue_length{queue="0"} 3
        exitblock_kernel_queue_length{queue="1"} 3
        # HELP exitblock_kernel_queue_max_length Packets the kernel holds at most per queue.
        # TYPE exitblock_kernel_queue_max_length gauge
        exitblock_kernel_queue_max_length{queue="0"} 4096
        exitblock_kernel_queue_max_length{queue="1"} 4096
        # HELP exitblock_kernel_queue_dropped_total Packets the kernel dropped: queue full.
        # TYPE exitblock_kernel_queue_dropped_total counter
        exitblock_kernel_queue_dropped_total{queue="0"} 7
        exitblock_kernel_queue_dropped_total{queue="1"} 7
        # HELP exitblock_kernel_user_dropped_total Packets the kernel failed to deliver to the socket: receive buffer full.
        # TYPE exitblock_kernel_user_dropped_total counter
        exitblock_kernel_user_dropped_total{queue="0"} 9
        exitblock_kernel_user_dropped_total{queue="1"} 9
        # HELP exitblock_set_entries Entries (addresses or prefixes) in the set in force, by family.
        # TYPE exitblock_set_entries gauge
        exitblock_set_entries{family="ipv4"} 1200
        exitblock_set_entries{family="ipv6"} 34
        # HELP exitblock_set_version Publishes of a new set since start (0: the set loaded at start).
        # TYPE exitblock_set_version gauge
        exitblock_set_version 2
        # HELP exitblock_set_rebuilds_total Sets rebuilt from the sources and published since start (a 304 or an unchanged list costs none).
        # TYPE exitblock_set_rebuilds_total counter
        exitblock_set_rebuilds_total 1
        # HELP exitblock_set_published_timestamp_seconds Unix time the set in force was published.
        # TYPE exitblock_set_published_timestamp_seconds gauge
        exitblock_set_published_timestamp_seconds 1700000040.5
        # HELP exitblock_set_age_seconds Seconds since the set in force was published.
        # TYPE exitblock_set_age_seconds gauge
        exitblock_set_age_seconds 59.75
        # HELP exitblock_source_entries Entries of each list source at its last good load, by family.
        # TYPE exitblock_source_entries gauge
        exitblock_source_entries{source="/etc/exitblock/\"exits\".txt",family="ipv4"} 1200
        exitblock_source_entries{source="/etc/exitblock/\"exits\".txt",family="ipv6"} 34
        # HELP exitblock_source_last_refresh_timestamp_seconds Unix time of the last load attempt of each source.
        # TYPE exitblock_source_last_refresh_timestamp_seconds gauge
        exitblock_source_last_refresh_timestamp_seconds{source="/etc/exitblock/\"exits\".txt"} 1700000040.5
        # HELP exitblock_source_last_refresh_success 1 when the last load attempt of the source succeeded.
        # TYPE exitblock_source_last_refresh_success gauge
        exitblock_source_last_refresh_success{source="/etc/exitblock/\"exits\".txt"} 1
        # HELP exitblock_source_fetches_total Refresh attempts of each source, by result (ok, not_modified, unchanged, refused, error).
        # TYPE exitblock_source_fetches_total counter
        exitblock_source_fetches_total{source="/etc/exitblock/\"exits\".txt",result="ok"} 3
        exitblock_source_fetches_total{source="/etc/exitblock/\"exits\".txt",result="not_modified"} 2
        exitblock_source_fetches_total{source="/etc/exitblock/\"exits\".txt",result="unchanged"} 0
        exitblock_source_fetches_total{source="/etc/exitblock/\"exits\".txt",result="refused"} 0
        exitblock_source_fetches_total{source="/etc/exitblock/\"exits\".txt",result="error"} 0
        # HELP exitblock_source_last_result Always 1; the labels give the last attempt's result and refusal reason of each source.
        # TYPE exitblock_source_last_result gauge
        exitblock_source_last_result{source="/etc/exitblock/\"exits\".txt",result="not_modified",reason=""} 1
        # HELP exitblock_source_loaded 1 when the source has a version in force (else it adds nothing to the set).
        # TYPE exitblock_source_loaded gauge
        exitblock_source_loaded{source="/etc/exitblock/\"exits\".txt"} 1
        # HELP exitblock_source_last_success_timestamp_seconds Unix time the version in force of each source was read, fetched or confirmed (a 304 confirms).
        # TYPE exitblock_source_last_success_timestamp_seconds gauge
        exitblock_source_last_success_timestamp_seconds{source="/etc/exitblock/\"exits\".txt"} 1700000040.5
        # HELP exitblock_source_age_seconds Seconds since the version in force of each source was read, fetched or confirmed.
        # TYPE exitblock_source_age_seconds gauge
        exitblock_source_age_seconds{source="/etc/exitblock/\"exits\".txt"} 59.75
        # HELP exitblock_source_max_age_seconds The age beyond which the version in force of each source is stale (--max-source-age; 0: never).
        # TYPE exitblock_source_max_age_seconds gauge
        exitblock_source_max_age_seconds{source="/etc/exitblock/\"exits\".txt"} 0
        # HELP exitblock_source_stale 1 while the version in force of the source is older than its max age (it stays in force).
        # TYPE exitblock_source_stale gauge
        exitblock_source_stale{source="/etc/exitblock/\"exits\".txt"} 0
        # HELP exitblock_source_from_cache 1 while the version in force of the source is the disk cache's, not yet confirmed since start.
        # TYPE exitblock_source_from_cache gauge
        exitblock_source_from_cache{source="/etc/exitblock/\"exits\".txt"} 0
        # HELP exitblock_refusals_total Loads refused (the set in force stayed), by reason.
        # TYPE exitblock_refusals_total counter
        exitblock_refusals_total{reason="shrink"} 1
        # HELP exitblock_policy_info Always 1; the labels say how packets are judged.
        # TYPE exitblock_policy_info gauge
        exitblock_policy_info{match="both",action="reject",dry_run="0"} 1
        # HELP exitblock_allowlist_entries Entries of the allowlist in force, by family.
        # TYPE exitblock_allowlist_entries gauge
        exitblock_allowlist_entries{family="ipv4"} 2
        exitblock_allowlist_entries{family="ipv6"} 1
        # HELP exitblock_top_listed_packets Packets from (or, matching destinations, to) the most seen listed addresses since start; lower bounds.
        # TYPE exitblock_top_listed_packets gauge
        exitblock_top_listed_packets{address="198.51.100.10"} 4
        exitblock_top_listed_packets{address="2001:db8:bad::10"} 3
        # HELP exitblock_healthy 1 when every queue is bound and a set is loaded (as /healthz).
        # TYPE exitblock_healthy gauge
        exitblock_healthy 1
        # HELP exitblock_process_start_time_seconds Unix time the process started.
        # TYPE exitblock_process_start_time_seconds gauge
        exitblock_process_start_time_seconds 1700000000
        # HELP exitblock_build_info Always 1; the labels say what is running.
        # TYPE exitblock_build_info gauge
        exitblock_build_info{version="0.1.0",swift="6.3",commit="v0.1.0-3-gabcdef0"} 1

        """#
}
