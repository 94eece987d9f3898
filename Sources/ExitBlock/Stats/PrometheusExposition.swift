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
                let value = seen(queue, name) &- dropped(queue, name)
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

        let perQueue: [(String, Counter, String)] = [
            ("exitblock_verdict_send_errors_total", .sendErrors, "Failed sends of verdict messages."),
            ("exitblock_verdict_errors_total", .verdictErrors, "Kernel error answers to verdict messages."),
            ("exitblock_enobufs_total", .enobufs, "Receive buffer overruns (ENOBUFS): the kernel lost packets to us."),
            ("exitblock_receive_errors_total", .receiveErrors, "Failed receive calls other than ENOBUFS."),
            ("exitblock_malformed_messages_total", .malformedMessages, "Netlink messages that could not be read."),
            ("exitblock_truncated_datagrams_total", .truncatedDatagrams, "Datagrams larger than their receive slot."),
            ("exitblock_burst_overflow_total", .overflow, "Packets that did not fit the receive burst."),
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

        // The kernel's side (only queues the kernel lists as bound have these samples).
        family(&out, "exitblock_queue_bound", "gauge", "1 when the kernel lists the queue as bound, else 0.")
        for (index, queue) in snapshot.queues.enumerated() {
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
        family(&out, "exitblock_refusals_total", "counter", "Loads refused (the set in force stayed), by reason.")
        for reason in snapshot.refusals.keys.sorted() {
            sample(
                &out,
                "exitblock_refusals_total",
                "reason=\"\(Self.escape(reason))\"",
                snapshot.refusals[reason] ?? 0
            )
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

        // The process.
        family(&out, "exitblock_healthy", "gauge", "1 when every queue is bound and a set is loaded (as /healthz).")
        sample(&out, "exitblock_healthy", "", snapshot.problems.isEmpty ? UInt64(1) : 0)
        family(&out, "exitblock_process_start_time_seconds", "gauge", "Unix time the process started.")
        sampleFloat(&out, "exitblock_process_start_time_seconds", "", snapshot.processStart)
        family(&out, "exitblock_build_info", "gauge", "Always 1; the labels say what is running.")
        let build = "version=\"\(Self.escape(snapshot.build.version))\",swift=\"\(Self.escape(snapshot.build.swift))\""
        sample(&out, "exitblock_build_info", build, UInt64(1))
    }

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
