import Engine

/// Every metric family exitblock exports, in exposition order: one entry each (see
/// `MetricFamily`). Dashboards and alert rules rely on these names and labels, and docs/metrics.md
/// lists them: change one only on purpose. Adding a family is adding one entry to a section.
public enum MetricCatalog {
    /// All families, section after section.
    public static let families: [MetricFamily] =
        verdicts + worker + kernel + set + sources + policy + conntrack + bgp + dropCache + acceptCache + rules
        + process

    /// Verdicts by queue and packet family. Unparsable packets carry no address family of
    /// their own; accepted is what was neither dropped nor rejected.
    static let verdicts: [MetricFamily] = [
        .counterByFamily(.packets, "exitblock_packets_total", "Packets given a verdict, by queue and address family."),
        .perQueueAndFamily("exitblock_packets_accepted_total", "Packets answered ACCEPT, by queue and family.") {
            $0[.packets, $1] &- $0[.dropped, $1] &- $0[.rejected, $1]
        },
        .counterByFamily(.dropped, "exitblock_packets_dropped_total", "Packets answered DROP, by queue and family."),
        .counterByFamily(
            .rejected,
            "exitblock_packets_rejected_total",
            "Packets answered ACCEPT with the reject mark set (--reject), by queue and family."
        ),
        .counterByFamily(
            .allowlisted,
            "exitblock_packets_allowlisted_total",
            "Packets accepted because their source or destination is allowlisted, by queue and family."
        ),
        .counterByFamily(
            .wouldDrop,
            "exitblock_would_drop_packets_total",
            "Packets accepted in dry-run that enforcing would have dropped or rejected, by queue and family."
        ),
    ]

    /// The workers' own figures, by queue.
    static let worker: [MetricFamily] = [
        .counter(.sendErrors, "exitblock_verdict_send_errors_total", "Failed sends of verdict messages."),
        .counter(
            .verdictResends,
            "exitblock_verdict_resends_total",
            "Verdict batches sent again after a transient send failure."
        ),
        .counter(
            .singleVerdicts,
            "exitblock_single_verdicts_total",
            "Packets answered one by one because their verdict batch could not be sent."
        ),
        .counter(
            .deferredVerdicts,
            "exitblock_deferred_verdicts_total",
            "Packets whose verdict could not be sent yet and went out with a later send."
        ),
        .counter(.verdictErrors, "exitblock_verdict_errors_total", "Kernel error answers to verdict messages."),
        .counter(
            .enobufs,
            "exitblock_enobufs_total",
            "Receive buffer overruns (ENOBUFS): the kernel lost packets to us."
        ),
        .counter(.receiveErrors, "exitblock_receive_errors_total", "Failed receive calls other than ENOBUFS."),
        .counter(.malformedMessages, "exitblock_malformed_messages_total", "Netlink messages that could not be read."),
        .counter(
            .truncatedDatagrams,
            "exitblock_truncated_datagrams_total",
            "Datagrams larger than their receive slot."
        ),
        .counter(.overflow, "exitblock_burst_overflow_total", "Packets that did not fit the receive burst."),
        .counter(
            .rejectReturned,
            "exitblock_reject_returned_total",
            "Listed packets that came back with the reject mark (no REJECT rule matched it) and were dropped."
        ),
        .counter(
            .outsidePolicy,
            "exitblock_packets_outside_policy_total",
            "Packets of listed addresses accepted because the exit's port policy does not cover their port."
        ),
        .counter(
            .policyPortsUnread,
            "exitblock_policy_ports_unread_total",
            "Listed TCP/UDP packets judged on the address alone: their ports were not in the copied bytes."
        ),
        MetricFamily(
            "exitblock_burst_size_packets",
            .histogram,
            "Packets per receive burst (each burst is answered with one send).",
            labels: ["queue"]
        ) { snapshot in
            snapshot.queues.flatMap { queue in
                let label = "\(queue.queue)"
                var cumulative: UInt64 = 0
                var samples = queue.burstSizes.enumerated().map { bucket, count in
                    cumulative &+= count
                    let bound =
                        bucket < BurstSizeCounts.upperBounds.count ? "\(BurstSizeCounts.upperBounds[bucket])" : "+Inf"
                    return MetricFamily.Sample(suffix: "_bucket", [label, bound], .integer(cumulative))
                }
                samples.append(MetricFamily.Sample(suffix: "_sum", [label], .integer(queue[.packets])))
                samples.append(MetricFamily.Sample(suffix: "_count", [label], .integer(cumulative)))
                return samples
            }
        },
    ]

    /// The kernel's side: only queues the kernel lists as bound have the queue figures; none
    /// when the table is unreadable, which `exitblock_kernel_table_readable` says.
    static let kernel: [MetricFamily] = [
        .single(
            "exitblock_kernel_table_readable",
            .gauge,
            "1 when the kernel's queue table (/proc/net/netfilter/nfnetlink_queue) can be read, else 0."
        ) { .flag($0.kernelTableReadable) },
        .perQueue(
            "exitblock_queue_bound",
            .gauge,
            "1 while this process has the queue bound (checked against the kernel's table), else 0."
        ) { .flag($0.bound) },
        .perQueue(
            "exitblock_queue_unbound_seconds",
            .gauge,
            "Seconds since the queue lost its binding (the daemon is binding it again); 0 while bound."
        ) { .float($0.unboundSeconds ?? 0) },
        .counter(
            .rebinds,
            "exitblock_queue_rebinds_total",
            "Times the queue was bound again after its binding was lost."
        ),
        .counter(
            .rebindFailures,
            "exitblock_queue_rebind_failures_total",
            "Attempts to bind the queue again that were refused (for example: another process holds it)."
        ),
        .perQueue("exitblock_kernel_queue_length", .gauge, "Packets waiting in the kernel queue for a verdict.") {
            $0.kernel.map { .integer($0.waiting) }
        },
        .perQueue("exitblock_kernel_queue_max_length", .gauge, "Packets the kernel holds at most per queue.") {
            .integer(UInt64($0.maxLength))
        },
        .perQueue("exitblock_kernel_queue_dropped_total", .counter, "Packets the kernel dropped: queue full.") {
            $0.kernel.map { .integer($0.queueDropped) }
        },
        .perQueue(
            "exitblock_kernel_user_dropped_total",
            .counter,
            "Packets the kernel failed to deliver to the socket: receive buffer full."
        ) { $0.kernel.map { .integer($0.userDropped) } },
    ]

    /// The set in force.
    static let set: [MetricFamily] = [
        .byAddressFamily(
            "exitblock_set_entries",
            .gauge,
            "Entries (addresses or prefixes) in the set in force, by family.",
            of: { $0.set },
            ipv4: { .count($0.ipv4Entries) },
            ipv6: { .count($0.ipv6Entries) }
        ),
        .single(
            "exitblock_set_version",
            .gauge,
            "Publishes of a new set since start (0: the set loaded at start)."
        ) { .integer($0.set.version) },
        .single(
            "exitblock_set_rebuilds_total",
            .counter,
            "Sets rebuilt from the sources and published since start (a 304 or an unchanged list costs none)."
        ) { .integer($0.set.rebuilds) },
        .single(
            "exitblock_set_published_timestamp_seconds",
            .gauge,
            "Unix time the set in force was published."
        ) { .float($0.set.published) },
        .single("exitblock_set_age_seconds", .gauge, "Seconds since the set in force was published.") {
            .float($0.setAge)
        },
    ]

    /// The `result` label values of `exitblock_source_fetches_total`, each always present.
    static let results = ["ok", "not_modified", "unchanged", "refused", "error"]

    /// The list sources and refused loads.
    static let sources: [MetricFamily] = [
        MetricFamily(
            "exitblock_source_entries",
            .gauge,
            "Entries of each list source at its last good load, by family.",
            labels: ["source", "family"]
        ) { snapshot in
            snapshot.sources.flatMap { source in
                [
                    MetricFamily.Sample([source.path, "ipv4"], .count(source.ipv4Entries)),
                    MetricFamily.Sample([source.path, "ipv6"], .count(source.ipv6Entries)),
                ]
            }
        },
        .perSource(
            "exitblock_source_last_refresh_timestamp_seconds",
            .gauge,
            "Unix time of the last load attempt of each source."
        ) { .float($1.lastRefresh) },
        .perSource(
            "exitblock_source_last_refresh_success",
            .gauge,
            "1 when the last load attempt of the source succeeded."
        ) { .flag($1.lastRefreshOK) },
        MetricFamily(
            "exitblock_source_fetches_total",
            .counter,
            "Refresh attempts of each source, by result (ok, not_modified, unchanged, refused, error).",
            labels: ["source", "result"]
        ) { snapshot in
            snapshot.sources.flatMap { source in
                results.map { MetricFamily.Sample([source.path, $0], .integer(source.results[$0] ?? 0)) }
            }
        },
        MetricFamily(
            "exitblock_source_last_result",
            .gauge,
            "Always 1; the labels give the last attempt's result and refusal reason of each source.",
            labels: ["source", "result", "reason"]
        ) { snapshot in
            snapshot.sources.filter { !$0.lastResult.isEmpty }.map {
                MetricFamily.Sample([$0.path, $0.lastResult, $0.lastReason], .integer(1))
            }
        },
        .perSource(
            "exitblock_source_loaded",
            .gauge,
            "1 when the source has a version in force (else it adds nothing to the set)."
        ) { .flag($1.loaded) },
        .perSource(
            "exitblock_source_last_success_timestamp_seconds",
            .gauge,
            "Unix time the version in force of each source was read, fetched or confirmed (a 304 confirms)."
        ) { snapshot, source in snapshot.age(of: source).map { _ in .float(source.lastSuccess) } },
        .perSource(
            "exitblock_source_age_seconds",
            .gauge,
            "Seconds since the version in force of each source was read, fetched or confirmed."
        ) { snapshot, source in snapshot.age(of: source).map { .float($0) } },
        .perSource(
            "exitblock_source_max_age_seconds",
            .gauge,
            "The age beyond which the version in force of each source is stale (--max-source-age; 0: never)."
        ) { .float($1.maxAge) },
        .perSource(
            "exitblock_source_stale",
            .gauge,
            "1 while the version in force of the source is older than its max age (it stays in force)."
        ) { snapshot, source in .flag(snapshot.isStale(source)) },
        .perSource(
            "exitblock_source_from_cache",
            .gauge,
            "1 while the version in force of the source is the disk cache's, not yet confirmed since start."
        ) { .flag($1.fromCache) },
        .byReason("exitblock_refusals_total", "Loads refused (the set in force stayed), by reason.") { $0.refusals },
    ]

    /// The policy, the allowlist, the most seen listed addresses.
    static let policy: [MetricFamily] = [
        .info(
            "exitblock_policy_info",
            "Always 1; the labels say how packets are judged.",
            labels: ["match", "action", "dry_run"]
        ) { [$0.policy.match, $0.policy.action, $0.policy.dryRun ? "1" : "0"] },
        .byAddressFamily(
            "exitblock_allowlist_entries",
            .gauge,
            "Entries of the allowlist in force, by family.",
            of: { $0.policy },
            ipv4: { .count($0.allowlistIPv4Entries) },
            ipv6: { .count($0.allowlistIPv6Entries) }
        ),
        MetricFamily(
            "exitblock_top_listed_packets",
            .gauge,
            "Packets from (or, matching destinations, to) the most seen listed addresses since start; lower bounds.",
            labels: ["address"]
        ) { snapshot in snapshot.topListed.map { MetricFamily.Sample([$0.address], .integer($0.packets)) } },
    ]

    /// Flow mode: conntrack invalidation.
    static let conntrack: [MetricFamily] = [
        .single(
            "exitblock_conntrack_invalidations_total",
            .counter,
            "Publishes in flow mode where the set grew, so the conntrack table was searched.",
            of: { $0.conntrack }
        ) { .integer($0.invalidations) },
        .single(
            "exitblock_conntrack_deleted_total",
            .counter,
            "Conntrack entries of newly listed addresses deleted (their flows are judged again).",
            of: { $0.conntrack }
        ) { .integer($0.deleted) },
        .single(
            "exitblock_conntrack_already_gone_total",
            .counter,
            "Conntrack entries that were gone when exitblock deleted them.",
            of: { $0.conntrack }
        ) { .integer($0.alreadyGone) },
        .single(
            "exitblock_conntrack_errors_total",
            .counter,
            "Failed conntrack invalidations (socket, permission, dump) and refused deletions.",
            of: { $0.conntrack }
        ) { .integer($0.errors) },
        .single(
            "exitblock_conntrack_last_deleted",
            .gauge,
            "Conntrack entries deleted by the last invalidation.",
            of: { $0.conntrack }
        ) { .integer($0.lastDeleted) },
        .single(
            "exitblock_conntrack_last_invalidation_seconds",
            .gauge,
            "Seconds the last invalidation took (dump, filter, delete).",
            of: { $0.conntrack }
        ) { .float($0.lastSeconds) },
    ]

    /// The BGP feed (`exitblock bgp`).
    static let bgp: [MetricFamily] = [
        .byAddressFamily(
            "exitblock_bgp_routes",
            .gauge,
            "Routes in force at the BGP speaker, by family.",
            of: { $0.bgp },
            ipv4: { .count($0.ipv4Routes) },
            ipv6: { .count($0.ipv6Routes) }
        ),
        .single("exitblock_bgp_announced_total", .counter, "Routes announced since start.", of: { $0.bgp }) {
            .integer($0.announced)
        },
        .single("exitblock_bgp_withdrawn_total", .counter, "Routes withdrawn since start.", of: { $0.bgp }) {
            .integer($0.withdrawn)
        },
        .single("exitblock_bgp_syncs_total", .counter, "Updates the BGP speaker took since start.", of: { $0.bgp }) {
            .integer($0.syncs)
        },
        .single("exitblock_bgp_max_routes", .gauge, "--max-routes (0: no limit).", of: { $0.bgp }) {
            .count($0.maximumRoutes)
        },
        .single(
            "exitblock_bgp_last_sync_timestamp_seconds",
            .gauge,
            "Unix time of the last update taken.",
            of: { $0.bgp }
        ) { .float($0.lastSync) },
        .byReason(
            "exitblock_bgp_refused_updates_total",
            "Updates refused (the routes in force stayed), by reason."
        ) { $0.bgp?.refused },
        .info(
            "exitblock_bgp_info",
            "Always 1; the labels say which speaker and style.",
            labels: ["speaker", "style"]
        ) { $0.bgp.map { [$0.speaker, $0.style] } },
    ]

    /// The drop cache: decisions made in the kernel.
    static let dropCache: [MetricFamily] = [
        .byAddressFamily(
            "exitblock_drop_cache_kernel_drops_total",
            .counter,
            "Packets of cached listed addresses dropped (or marked for REJECT) in the kernel, never queued "
                + "(the cache entries' counters; a lower bound).",
            of: { $0.dropCache },
            ipv4: { .integer($0.kernelDropsIPv4) },
            ipv6: { .integer($0.kernelDropsIPv6) }
        ),
        .byAddressFamily(
            "exitblock_drop_cache_entries",
            .gauge,
            "Addresses in the kernel's drop cache, by family.",
            of: { $0.dropCache },
            ipv4: { .count($0.entriesIPv4) },
            ipv6: { .count($0.entriesIPv6) }
        ),
        .single(
            "exitblock_drop_cache_prunes_total",
            .counter,
            "Publishes that pruned the drop cache.",
            of: { $0.dropCache }
        ) { .integer($0.prunes) },
        .single(
            "exitblock_drop_cache_deleted_total",
            .counter,
            "Drop cache entries deleted because a publish de-listed or allowlisted their address.",
            of: { $0.dropCache }
        ) { .integer($0.entriesDeleted) },
        .single(
            "exitblock_drop_cache_errors_total",
            .counter,
            "Failed ipset runs, netlink sends and adds.",
            of: { $0.dropCache }
        ) { .integer($0.errors) },
        .single(
            "exitblock_drop_cache_adds_total",
            .counter,
            "Addresses the daemon put into the drop cache (new entries and renewals).",
            of: { $0.dropCache }
        ) { .integer($0.adds) },
        .single(
            "exitblock_drop_cache_stale_adds_total",
            .counter,
            "Cache adds thrown away because a publish replaced the sets that judged them.",
            of: { $0.dropCache }
        ) { .integer($0.staleAdds) },
    ]

    /// The accept cache (packet mode): clean addresses accepted in the kernel.
    static let acceptCache: [MetricFamily] = [
        .byAddressFamily(
            "exitblock_accept_cache_kernel_accepts_total",
            .counter,
            "Packets of cached clean addresses accepted in the kernel, never queued (the cache entries' "
                + "counters; a lower bound).",
            of: { $0.dropCache?.accept },
            ipv4: { .integer($0.kernelAcceptsIPv4) },
            ipv6: { .integer($0.kernelAcceptsIPv6) }
        ),
        .byAddressFamily(
            "exitblock_accept_cache_entries",
            .gauge,
            "Addresses in the kernel's accept cache, by family.",
            of: { $0.dropCache?.accept },
            ipv4: { .count($0.entriesIPv4) },
            ipv6: { .count($0.entriesIPv6) }
        ),
        .single(
            "exitblock_accept_cache_adds_total",
            .counter,
            "Addresses the daemon put into the accept cache (new entries and renewals).",
            of: { $0.dropCache?.accept }
        ) { .integer($0.adds) },
        .single(
            "exitblock_accept_cache_full_total",
            .counter,
            "Accept cache adds the kernel refused because the set was full (the packets stay queued).",
            of: { $0.dropCache?.accept }
        ) { .integer($0.full) },
        .single(
            "exitblock_accept_cache_deleted_total",
            .counter,
            "Accept cache entries deleted because a publish listed their address.",
            of: { $0.dropCache?.accept }
        ) { .integer($0.entriesDeleted) },
    ]

    /// The rule watch: whether exitblock's rules and sets are in place (present when watched).
    static let rules: [MetricFamily] = [
        MetricFamily(
            "exitblock_rules_intact",
            .gauge,
            "1 when exitblock's chain, jumps, queue rules and cache sets are in place for the family (or the "
                + "family is not watched yet), 0 when a part is missing or changed.",
            labels: ["family"]
        ) { snapshot in
            snapshot.rules.map { rules in rules.families.map { MetricFamily.Sample([$0.family], .flag($0.intact)) } }
        },
        .single(
            "exitblock_rules_restores_total",
            .counter,
            "Times the rule watch put a family's layout back (--restore-rules).",
            of: { $0.rules }
        ) { .integer($0.restores) },
        .single(
            "exitblock_rules_restore_failures_total",
            .counter,
            "Restores of the layout that failed.",
            of: { $0.rules }
        ) { .integer($0.restoreFailures) },
        .single(
            "exitblock_rules_breaks_total",
            .counter,
            "Times a family's layout was found missing or changed.",
            of: { $0.rules }
        ) { .integer($0.breaks) },
        .single(
            "exitblock_rules_checks_total",
            .counter,
            "Looks at the kernel's tables and sets by the rule watch.",
            of: { $0.rules }
        ) { .integer($0.checks) },
    ]

    /// The process.
    static let process: [MetricFamily] = [
        .single(
            "exitblock_healthy",
            .gauge,
            "1 when every queue is bound and a set is loaded (as /healthz)."
        ) { .flag($0.problems.isEmpty) },
        .single("exitblock_process_start_time_seconds", .gauge, "Unix time the process started.") {
            .float($0.processStart)
        },
        .info(
            "exitblock_build_info",
            "Always 1; the labels say what is running.",
            labels: ["version", "swift", "commit"]
        ) { [$0.build.version, $0.build.swift, $0.build.commit] },
    ]
}
