/// Renders a `MetricsSnapshot` as Prometheus text exposition, version 0.0.4: every family
/// with its HELP and TYPE lines, names prefixed `exitblock_`, counters ending in `_total`,
/// labels `queue`, `family`, `source`, `reason`. Label sets are rendered once per queue and
/// reused for every family.
public struct PrometheusExposition: Sendable {
    /// The Content-Type of the output.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public let snapshot: MetricsSnapshot

    public init(_ snapshot: MetricsSnapshot) {
        self.snapshot = snapshot
    }

    /// The whole exposition as bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4096 + 2048 * snapshot.queues.count)
        emit(into: &out)
        return out
    }

    /// Appends the exposition to `out`.
    public func emit(into out: inout [UInt8]) {
        let queueLabels = snapshot.queues.map { "queue=\"\($0.queue)\"" }
        let families = ["ipv4", "ipv6", "unparsable"]

        // Verdicts by family. Unparsable packets carry no address family of their own.
        family(&out, "exitblock_packets_total", "counter", "Packets given a verdict, by queue and address family.")
        for (index, queue) in snapshot.queues.enumerated() {
            for name in families {
                sample(&out, "exitblock_packets_total", "\(queueLabels[index]),family=\"\(name)\"", seen(queue, name))
            }
        }
        family(&out, "exitblock_packets_accepted_total", "counter", "Packets answered ACCEPT, by queue and family.")
        for (index, queue) in snapshot.queues.enumerated() {
            for name in families {
                let value = seen(queue, name) &- dropped(queue, name) &- byFamily(queue, name, Self.rejected)
                sample(&out, "exitblock_packets_accepted_total", "\(queueLabels[index]),family=\"\(name)\"", value)
            }
        }
        family(&out, "exitblock_packets_dropped_total", "counter", "Packets answered DROP, by queue and family.")
        for (index, queue) in snapshot.queues.enumerated() {
            for name in families {
                sample(
                    &out,
                    "exitblock_packets_dropped_total",
                    "\(queueLabels[index]),family=\"\(name)\"",
                    dropped(queue, name)
                )
            }
        }
        let modeFamilies: [(String, (Counter, Counter, Counter), String)] = [
            (
                "exitblock_packets_rejected_total", Self.rejected,
                "Packets answered ACCEPT with the reject mark set (--reject), by queue and family."
            ),
            (
                "exitblock_packets_allowlisted_total", Self.allowlisted,
                "Packets accepted because their source or destination is allowlisted, by queue and family."
            ),
            (
                "exitblock_would_drop_packets_total", Self.wouldDrop,
                "Packets accepted in dry-run that enforcing would have dropped or rejected, by queue and family."
            ),
        ]
        for (name, counters, help) in modeFamilies {
            family(&out, name, "counter", help)
            for (index, queue) in snapshot.queues.enumerated() {
                for familyName in families {
                    sample(
                        &out,
                        name,
                        "\(queueLabels[index]),family=\"\(familyName)\"",
                        byFamily(queue, familyName, counters)
                    )
                }
            }
        }

        let perQueue: [(String, Counter, String)] = [
            ("exitblock_verdict_send_errors_total", .sendErrors, "Failed sends of verdict messages."),
            (
                "exitblock_verdict_resends_total", .verdictResends,
                "Verdict batches sent again after a transient send failure."
            ),
            (
                "exitblock_single_verdicts_total", .singleVerdicts,
                "Packets answered one by one because their verdict batch could not be sent."
            ),
            (
                "exitblock_deferred_verdicts_total", .deferredVerdicts,
                "Packets whose verdict could not be sent yet and went out with a later send."
            ),
            ("exitblock_verdict_errors_total", .verdictErrors, "Kernel error answers to verdict messages."),
            ("exitblock_enobufs_total", .enobufs, "Receive buffer overruns (ENOBUFS): the kernel lost packets to us."),
            ("exitblock_receive_errors_total", .receiveErrors, "Failed receive calls other than ENOBUFS."),
            ("exitblock_malformed_messages_total", .malformedMessages, "Netlink messages that could not be read."),
            ("exitblock_truncated_datagrams_total", .truncatedDatagrams, "Datagrams larger than their receive slot."),
            ("exitblock_burst_overflow_total", .overflow, "Packets that did not fit the receive burst."),
            (
                "exitblock_reject_returned_total", .rejectReturned,
                "Listed packets that came back with the reject mark (no REJECT rule matched it) and were dropped."
            ),
            (
                "exitblock_packets_outside_policy_total", .outsidePolicy,
                "Packets of listed addresses accepted because the exit's port policy does not cover their port."
            ),
            (
                "exitblock_policy_ports_unread_total", .policyPortsUnread,
                "Listed TCP/UDP packets judged on the address alone: their ports were not in the copied bytes."
            ),
        ]
        for (name, counter, help) in perQueue {
            family(&out, name, "counter", help)
            for (index, queue) in snapshot.queues.enumerated() {
                sample(&out, name, queueLabels[index], queue[counter])
            }
        }

        let histogram = "exitblock_burst_size_packets"
        family(&out, histogram, "histogram", "Packets per receive burst (each burst is answered with one send).")
        for (index, queue) in snapshot.queues.enumerated() {
            var cumulative: UInt64 = 0
            for (bucket, count) in queue.burstSizes.enumerated() {
                cumulative &+= count
                let bound =
                    bucket < BurstSizeCounts.upperBounds.count ? "\(BurstSizeCounts.upperBounds[bucket])" : "+Inf"
                sample(&out, histogram + "_bucket", "\(queueLabels[index]),le=\"\(bound)\"", cumulative)
            }
            sample(&out, histogram + "_sum", queueLabels[index], queue[.packets])
            sample(&out, histogram + "_count", queueLabels[index], cumulative)
        }

        // The kernel's side (only queues the kernel lists as bound have these samples; none
        // when the table is unreadable, which exitblock_kernel_table_readable says).
        family(
            &out,
            "exitblock_kernel_table_readable",
            "gauge",
            "1 when the kernel's queue table (/proc/net/netfilter/nfnetlink_queue) can be read, else 0."
        )
        sample(&out, "exitblock_kernel_table_readable", "", snapshot.kernelTableReadable ? UInt64(1) : 0)
        family(&out, "exitblock_queue_bound", "gauge", "1 when the kernel lists the queue as bound, else 0.")
        for (index, queue) in snapshot.queues.enumerated() where snapshot.kernelTableReadable {
            sample(&out, "exitblock_queue_bound", queueLabels[index], queue.kernel == nil ? UInt64(0) : 1)
        }
        family(&out, "exitblock_kernel_queue_length", "gauge", "Packets waiting in the kernel queue for a verdict.")
        for (index, queue) in snapshot.queues.enumerated() {
            if let kernel = queue.kernel {
                sample(&out, "exitblock_kernel_queue_length", queueLabels[index], kernel.waiting)
            }
        }
        family(&out, "exitblock_kernel_queue_max_length", "gauge", "Packets the kernel holds at most per queue.")
        for (index, queue) in snapshot.queues.enumerated() {
            sample(&out, "exitblock_kernel_queue_max_length", queueLabels[index], UInt64(queue.maxLength))
        }
        family(&out, "exitblock_kernel_queue_dropped_total", "counter", "Packets the kernel dropped: queue full.")
        for (index, queue) in snapshot.queues.enumerated() {
            if let kernel = queue.kernel {
                sample(&out, "exitblock_kernel_queue_dropped_total", queueLabels[index], kernel.queueDropped)
            }
        }
        family(
            &out,
            "exitblock_kernel_user_dropped_total",
            "counter",
            "Packets the kernel failed to deliver to the socket: receive buffer full."
        )
        for (index, queue) in snapshot.queues.enumerated() {
            if let kernel = queue.kernel {
                sample(&out, "exitblock_kernel_user_dropped_total", queueLabels[index], kernel.userDropped)
            }
        }

        // The set in force and its sources.
        let set = snapshot.set
        family(
            &out,
            "exitblock_set_entries",
            "gauge",
            "Entries (addresses or prefixes) in the set in force, by family."
        )
        sample(&out, "exitblock_set_entries", "family=\"ipv4\"", UInt64(set.ipv4Entries))
        sample(&out, "exitblock_set_entries", "family=\"ipv6\"", UInt64(set.ipv6Entries))
        family(
            &out,
            "exitblock_set_version",
            "gauge",
            "Publishes of a new set since start (0: the set loaded at start)."
        )
        sample(&out, "exitblock_set_version", "", set.version)
        family(
            &out,
            "exitblock_set_rebuilds_total",
            "counter",
            "Sets rebuilt from the sources and published since start (a 304 or an unchanged list costs none)."
        )
        sample(&out, "exitblock_set_rebuilds_total", "", set.rebuilds)
        family(&out, "exitblock_set_published_timestamp_seconds", "gauge", "Unix time the set in force was published.")
        sampleFloat(&out, "exitblock_set_published_timestamp_seconds", "", set.published)
        family(&out, "exitblock_set_age_seconds", "gauge", "Seconds since the set in force was published.")
        sampleFloat(&out, "exitblock_set_age_seconds", "", snapshot.setAge)

        let sourceLabels = snapshot.sources.map { "source=\"\(Self.escape($0.path))\"" }
        family(
            &out,
            "exitblock_source_entries",
            "gauge",
            "Entries of each list source at its last good load, by family."
        )
        for (index, source) in snapshot.sources.enumerated() {
            sample(
                &out,
                "exitblock_source_entries",
                "\(sourceLabels[index]),family=\"ipv4\"",
                UInt64(source.ipv4Entries)
            )
            sample(
                &out,
                "exitblock_source_entries",
                "\(sourceLabels[index]),family=\"ipv6\"",
                UInt64(source.ipv6Entries)
            )
        }
        family(
            &out,
            "exitblock_source_last_refresh_timestamp_seconds",
            "gauge",
            "Unix time of the last load attempt of each source."
        )
        for (index, source) in snapshot.sources.enumerated() {
            sampleFloat(
                &out,
                "exitblock_source_last_refresh_timestamp_seconds",
                sourceLabels[index],
                source.lastRefresh
            )
        }
        family(
            &out,
            "exitblock_source_last_refresh_success",
            "gauge",
            "1 when the last load attempt of the source succeeded."
        )
        for (index, source) in snapshot.sources.enumerated() {
            sample(
                &out,
                "exitblock_source_last_refresh_success",
                sourceLabels[index],
                source.lastRefreshOK ? UInt64(1) : 0
            )
        }
        family(
            &out,
            "exitblock_source_fetches_total",
            "counter",
            "Refresh attempts of each source, by result (ok, not_modified, unchanged, refused, error)."
        )
        for (index, source) in snapshot.sources.enumerated() {
            for result in Self.results {
                sample(
                    &out,
                    "exitblock_source_fetches_total",
                    "\(sourceLabels[index]),result=\"\(result)\"",
                    source.results[result] ?? 0
                )
            }
        }
        family(
            &out,
            "exitblock_source_last_result",
            "gauge",
            "Always 1; the labels give the last attempt's result and refusal reason of each source."
        )
        for (index, source) in snapshot.sources.enumerated() where !source.lastResult.isEmpty {
            let labels =
                "\(sourceLabels[index]),result=\"\(Self.escape(source.lastResult))\",reason=\"\(Self.escape(source.lastReason))\""
            sample(&out, "exitblock_source_last_result", labels, UInt64(1))
        }
        family(
            &out,
            "exitblock_source_loaded",
            "gauge",
            "1 when the source has a version in force (else it adds nothing to the set)."
        )
        for (index, source) in snapshot.sources.enumerated() {
            sample(&out, "exitblock_source_loaded", sourceLabels[index], source.loaded ? UInt64(1) : 0)
        }
        family(
            &out,
            "exitblock_source_last_success_timestamp_seconds",
            "gauge",
            "Unix time the version in force of each source was read, fetched or confirmed (a 304 confirms)."
        )
        for (index, source) in snapshot.sources.enumerated() where snapshot.age(of: source) != nil {
            sampleFloat(
                &out,
                "exitblock_source_last_success_timestamp_seconds",
                sourceLabels[index],
                source.lastSuccess
            )
        }
        family(
            &out,
            "exitblock_source_age_seconds",
            "gauge",
            "Seconds since the version in force of each source was read, fetched or confirmed."
        )
        for (index, source) in snapshot.sources.enumerated() {
            if let age = snapshot.age(of: source) {
                sampleFloat(&out, "exitblock_source_age_seconds", sourceLabels[index], age)
            }
        }
        family(
            &out,
            "exitblock_source_from_cache",
            "gauge",
            "1 while the version in force of the source is the disk cache's, not yet confirmed since start."
        )
        for (index, source) in snapshot.sources.enumerated() {
            sample(&out, "exitblock_source_from_cache", sourceLabels[index], source.fromCache ? UInt64(1) : 0)
        }
        family(&out, "exitblock_refusals_total", "counter", "Loads refused (the set in force stayed), by reason.")
        for reason in snapshot.refusals.keys.sorted() {
            sample(
                &out,
                "exitblock_refusals_total",
                "reason=\"\(Self.escape(reason))\"",
                snapshot.refusals[reason] ?? 0
            )
        }

        // The policy, the allowlist, the most seen listed addresses.
        let policy = snapshot.policy
        family(&out, "exitblock_policy_info", "gauge", "Always 1; the labels say how packets are judged.")
        sample(
            &out,
            "exitblock_policy_info",
            "match=\"\(Self.escape(policy.match))\",action=\"\(Self.escape(policy.action))\","
                + "dry_run=\"\(policy.dryRun ? 1 : 0)\"",
            UInt64(1)
        )
        family(&out, "exitblock_allowlist_entries", "gauge", "Entries of the allowlist in force, by family.")
        sample(&out, "exitblock_allowlist_entries", "family=\"ipv4\"", UInt64(policy.allowlistIPv4Entries))
        sample(&out, "exitblock_allowlist_entries", "family=\"ipv6\"", UInt64(policy.allowlistIPv6Entries))
        family(
            &out,
            "exitblock_top_listed_packets",
            "gauge",
            "Packets from (or, matching destinations, to) the most seen listed addresses since start; lower bounds."
        )
        for entry in snapshot.topListed {
            sample(&out, "exitblock_top_listed_packets", "address=\"\(Self.escape(entry.address))\"", entry.packets)
        }

        // Flow mode: conntrack invalidation.
        if let conntrack = snapshot.conntrack {
            let figures: [(String, String, UInt64, String)] = [
                (
                    "exitblock_conntrack_invalidations_total", "counter", conntrack.invalidations,
                    "Publishes in flow mode where the set grew, so the conntrack table was searched."
                ),
                (
                    "exitblock_conntrack_deleted_total", "counter", conntrack.deleted,
                    "Conntrack entries of newly listed addresses deleted (their flows are judged again)."
                ),
                (
                    "exitblock_conntrack_already_gone_total", "counter", conntrack.alreadyGone,
                    "Conntrack entries that were gone when exitblock deleted them."
                ),
                (
                    "exitblock_conntrack_errors_total", "counter", conntrack.errors,
                    "Failed conntrack invalidations (socket, permission, dump) and refused deletions."
                ),
                (
                    "exitblock_conntrack_last_deleted", "gauge", conntrack.lastDeleted,
                    "Conntrack entries deleted by the last invalidation."
                ),
            ]
            for (name, type, value, help) in figures {
                family(&out, name, type, help)
                sample(&out, name, "", value)
            }
            family(
                &out,
                "exitblock_conntrack_last_invalidation_seconds",
                "gauge",
                "Seconds the last invalidation took (dump, filter, delete)."
            )
            sampleFloat(&out, "exitblock_conntrack_last_invalidation_seconds", "", conntrack.lastSeconds)
        }

        // The BGP feed (exitblock bgp).
        if let bgp = snapshot.bgp {
            family(&out, "exitblock_bgp_routes", "gauge", "Routes in force at the BGP speaker, by family.")
            sample(&out, "exitblock_bgp_routes", "family=\"ipv4\"", UInt64(bgp.ipv4Routes))
            sample(&out, "exitblock_bgp_routes", "family=\"ipv6\"", UInt64(bgp.ipv6Routes))
            let figures: [(String, String, UInt64, String)] = [
                ("exitblock_bgp_announced_total", "counter", bgp.announced, "Routes announced since start."),
                ("exitblock_bgp_withdrawn_total", "counter", bgp.withdrawn, "Routes withdrawn since start."),
                ("exitblock_bgp_syncs_total", "counter", bgp.syncs, "Updates the BGP speaker took since start."),
                ("exitblock_bgp_max_routes", "gauge", UInt64(bgp.maximumRoutes), "--max-routes (0: no limit)."),
            ]
            for (name, type, value, help) in figures {
                family(&out, name, type, help)
                sample(&out, name, "", value)
            }
            family(&out, "exitblock_bgp_last_sync_timestamp_seconds", "gauge", "Unix time of the last update taken.")
            sampleFloat(&out, "exitblock_bgp_last_sync_timestamp_seconds", "", bgp.lastSync)
            family(
                &out,
                "exitblock_bgp_refused_updates_total",
                "counter",
                "Updates refused (the routes in force stayed), by reason."
            )
            for reason in bgp.refused.keys.sorted() {
                sample(
                    &out,
                    "exitblock_bgp_refused_updates_total",
                    "reason=\"\(Self.escape(reason))\"",
                    bgp.refused[reason] ?? 0
                )
            }
            family(&out, "exitblock_bgp_info", "gauge", "Always 1; the labels say which speaker and style.")
            sample(
                &out,
                "exitblock_bgp_info",
                "speaker=\"\(Self.escape(bgp.speaker))\",style=\"\(Self.escape(bgp.style))\"",
                UInt64(1)
            )
        }

        // The drop cache: decisions made in the kernel.
        if let cache = snapshot.dropCache {
            family(
                &out,
                "exitblock_drop_cache_kernel_drops_total",
                "counter",
                "Packets of cached listed addresses dropped (or marked for REJECT) in the kernel, never queued "
                    + "(the cache entries' counters; a lower bound)."
            )
            sample(&out, "exitblock_drop_cache_kernel_drops_total", "family=\"ipv4\"", cache.kernelDropsIPv4)
            sample(&out, "exitblock_drop_cache_kernel_drops_total", "family=\"ipv6\"", cache.kernelDropsIPv6)
            family(&out, "exitblock_drop_cache_entries", "gauge", "Addresses in the kernel's drop cache, by family.")
            sample(&out, "exitblock_drop_cache_entries", "family=\"ipv4\"", UInt64(cache.entriesIPv4))
            sample(&out, "exitblock_drop_cache_entries", "family=\"ipv6\"", UInt64(cache.entriesIPv6))
            let figures: [(String, UInt64, String)] = [
                ("exitblock_drop_cache_prunes_total", cache.prunes, "Publishes that pruned the drop cache."),
                (
                    "exitblock_drop_cache_deleted_total", cache.entriesDeleted,
                    "Drop cache entries deleted because a publish de-listed or allowlisted their address."
                ),
                ("exitblock_drop_cache_errors_total", cache.errors, "Failed ipset runs, netlink sends and adds."),
                (
                    "exitblock_drop_cache_adds_total", cache.adds,
                    "Addresses the daemon put into the drop cache (new entries and renewals)."
                ),
                (
                    "exitblock_drop_cache_stale_adds_total", cache.staleAdds,
                    "Cache adds thrown away because a publish replaced the sets that judged them."
                ),
            ]
            for (name, value, help) in figures {
                family(&out, name, "counter", help)
                sample(&out, name, "", value)
            }
            if let accept = cache.accept {
                family(
                    &out,
                    "exitblock_accept_cache_kernel_accepts_total",
                    "counter",
                    "Packets of cached clean addresses accepted in the kernel, never queued (the cache entries' "
                        + "counters; a lower bound)."
                )
                sample(&out, "exitblock_accept_cache_kernel_accepts_total", "family=\"ipv4\"", accept.kernelAcceptsIPv4)
                sample(&out, "exitblock_accept_cache_kernel_accepts_total", "family=\"ipv6\"", accept.kernelAcceptsIPv6)
                family(
                    &out,
                    "exitblock_accept_cache_entries",
                    "gauge",
                    "Addresses in the kernel's accept cache, by family."
                )
                sample(&out, "exitblock_accept_cache_entries", "family=\"ipv4\"", UInt64(accept.entriesIPv4))
                sample(&out, "exitblock_accept_cache_entries", "family=\"ipv6\"", UInt64(accept.entriesIPv6))
                let acceptFigures: [(String, UInt64, String)] = [
                    (
                        "exitblock_accept_cache_adds_total", accept.adds,
                        "Addresses the daemon put into the accept cache (new entries and renewals)."
                    ),
                    (
                        "exitblock_accept_cache_full_total", accept.full,
                        "Accept cache adds the kernel refused because the set was full (the packets stay queued)."
                    ),
                    (
                        "exitblock_accept_cache_deleted_total", accept.entriesDeleted,
                        "Accept cache entries deleted because a publish listed their address."
                    ),
                ]
                for (name, value, help) in acceptFigures {
                    family(&out, name, "counter", help)
                    sample(&out, name, "", value)
                }
            }
        }

        // The process.
        family(&out, "exitblock_healthy", "gauge", "1 when every queue is bound and a set is loaded (as /healthz).")
        sample(&out, "exitblock_healthy", "", snapshot.problems.isEmpty ? UInt64(1) : 0)
        family(&out, "exitblock_process_start_time_seconds", "gauge", "Unix time the process started.")
        sampleFloat(&out, "exitblock_process_start_time_seconds", "", snapshot.processStart)
        family(&out, "exitblock_build_info", "gauge", "Always 1; the labels say what is running.")
        let build =
            "version=\"\(Self.escape(snapshot.build.version))\",swift=\"\(Self.escape(snapshot.build.swift))\","
            + "commit=\"\(Self.escape(snapshot.build.commit))\""
        sample(&out, "exitblock_build_info", build, UInt64(1))
    }

    /// The `result` label values of `exitblock_source_fetches_total`, each always present.
    static let results = ["ok", "not_modified", "unchanged", "refused", "error"]

    /// Packets of a family: "ipv4", "ipv6" or "unparsable".
    private func seen(_ queue: MetricsSnapshot.Queue, _ family: String) -> UInt64 {
        switch family {
        case "ipv4": return queue[.ipv4Packets]
        case "ipv6": return queue[.ipv6Packets]
        default: return queue[.unparsable]
        }
    }

    private func dropped(_ queue: MetricsSnapshot.Queue, _ family: String) -> UInt64 {
        switch family {
        case "ipv4": return queue[.ipv4Dropped]
        case "ipv6": return queue[.ipv6Dropped]
        default: return queue[.dropped] &- queue[.ipv4Dropped] &- queue[.ipv6Dropped]
        }
    }

    private static let rejected: (Counter, Counter, Counter) = (.rejected, .ipv4Rejected, .ipv6Rejected)
    private static let allowlisted: (Counter, Counter, Counter) = (.allowlisted, .ipv4Allowlisted, .ipv6Allowlisted)
    private static let wouldDrop: (Counter, Counter, Counter) = (.wouldDrop, .ipv4WouldDrop, .ipv6WouldDrop)

    /// A counter kept as (total, IPv4, IPv6) for one family; "unparsable" is the rest.
    private func byFamily(_ queue: MetricsSnapshot.Queue, _ family: String, _ counters: (Counter, Counter, Counter))
        -> UInt64
    {
        switch family {
        case "ipv4": return queue[counters.1]
        case "ipv6": return queue[counters.2]
        default: return queue[counters.0] &- queue[counters.1] &- queue[counters.2]
        }
    }

    private func family(_ out: inout [UInt8], _ name: String, _ type: String, _ help: String) {
        out.append(contentsOf: "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n".utf8)
    }

    private func sample(_ out: inout [UInt8], _ name: String, _ labels: String, _ value: UInt64) {
        line(&out, name, labels, String(value))
    }

    private func sampleFloat(_ out: inout [UInt8], _ name: String, _ labels: String, _ value: Double) {
        line(&out, name, labels, Self.format(value))
    }

    private func line(_ out: inout [UInt8], _ name: String, _ labels: String, _ value: String) {
        out.append(contentsOf: name.utf8)
        if !labels.isEmpty {
            out.append(UInt8(ascii: "{"))
            out.append(contentsOf: labels.utf8)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: value.utf8)
        out.append(UInt8(ascii: "\n"))
    }

    /// A float in the exposition's syntax: integral values without a fraction, three decimals
    /// at most otherwise (times are only known to the millisecond).
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf") }
        let millis = (value * 1000).rounded()
        if millis.truncatingRemainder(dividingBy: 1000) == 0 { return String(Int64(millis / 1000)) }
        var text = String(Int64(millis / 1000)) + "."
        var fraction = String(Int64(abs(millis.truncatingRemainder(dividingBy: 1000))))
        while fraction.count < 3 { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if value < 0 && Int64(millis / 1000) == 0 { text = "-" + text }
        return text + fraction
    }

    /// Label value escaping of the text format: backslash, double quote, line feed.
    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
