import Engine

/// One Prometheus metric family described as data: its name, type, help text, label names,
/// and how to read its samples from a `MetricsSnapshot`. `MetricCatalog` lists every family
/// exitblock exports; `PrometheusExposition` renders them.
public struct MetricFamily: Sendable {
    /// The family's Prometheus type.
    public enum Kind: String, Sendable {
        case counter
        case gauge
        /// Samples `_bucket` (with an `le` label after the family's labels), `_sum` and `_count`.
        case histogram
    }

    /// A sample's value: an integer, or a float written with at most three decimals.
    public enum Value: Sendable, Equatable {
        case integer(UInt64)
        case float(Double)

        /// An entry count or other `Int`.
        public static func count(_ value: Int) -> Value { .integer(UInt64(max(value, 0))) }
        /// 1 or 0.
        public static func flag(_ value: Bool) -> Value { .integer(value ? 1 : 0) }
    }

    /// One line of the family: label values in the order of `labels`, and the value.
    public struct Sample: Sendable, Equatable {
        /// Appended to the family's name: "" or, for a histogram, "_bucket", "_sum", "_count".
        public var suffix: String
        public var labelValues: [String]
        public var value: Value

        public init(suffix: String = "", _ labelValues: [String], _ value: Value) {
            self.suffix = suffix
            self.labelValues = labelValues
            self.value = value
        }

        /// An unlabelled sample.
        public init(_ value: Value) {
            self.init([], value)
        }
    }

    /// The full name, `exitblock_` first; a counter's ends in `_total`.
    public let name: String
    public let kind: Kind
    public let help: String
    /// The label names of every sample, in order.
    public let labels: [String]
    /// The samples in `snapshot`; nil when the family does not apply to it at all (no HELP or
    /// TYPE line then: conntrack, BGP and drop cache figures exist only in their modes).
    public let samples: @Sendable (_ snapshot: MetricsSnapshot) -> [Sample]?

    /// A family with samples read by `samples`.
    public init(
        _ name: String,
        _ kind: Kind,
        _ help: String,
        labels: [String] = [],
        samples: @escaping @Sendable (_ snapshot: MetricsSnapshot) -> [Sample]?
    ) {
        self.name = name
        self.kind = kind
        self.help = help
        self.labels = labels
        self.samples = samples
    }
}

extension MetricFamily {
    /// One unlabelled sample.
    public static func single(
        _ name: String,
        _ kind: Kind,
        _ help: String,
        _ value: @escaping @Sendable (MetricsSnapshot) -> Value
    ) -> MetricFamily {
        MetricFamily(name, kind, help) { [Sample(value($0))] }
    }

    /// One unlabelled sample read from a part of the snapshot that exists only in some modes
    /// (`\.conntrack`, `\.bgp`, `\.dropCache`); the family is left out when it is nil.
    public static func single<Part: Sendable>(
        _ name: String,
        _ kind: Kind,
        _ help: String,
        of part: @escaping @Sendable (MetricsSnapshot) -> Part?,
        _ value: @escaping @Sendable (Part) -> Value
    ) -> MetricFamily {
        MetricFamily(name, kind, help) { snapshot in part(snapshot).map { [Sample(value($0))] } }
    }

    /// Two samples labelled `family="ipv4"` and `family="ipv6"`, read from a part of the
    /// snapshot (the whole snapshot: `{ $0 }`); left out when the part is nil.
    public static func byAddressFamily<Part: Sendable>(
        _ name: String,
        _ kind: Kind,
        _ help: String,
        of part: @escaping @Sendable (MetricsSnapshot) -> Part?,
        ipv4: @escaping @Sendable (Part) -> Value,
        ipv6: @escaping @Sendable (Part) -> Value
    ) -> MetricFamily {
        MetricFamily(name, kind, help, labels: ["family"]) { snapshot in
            part(snapshot).map { [Sample(["ipv4"], ipv4($0)), Sample(["ipv6"], ipv6($0))] }
        }
    }

    /// One sample per queue, labelled `queue`; a nil value leaves the queue out.
    public static func perQueue(
        _ name: String,
        _ kind: Kind,
        _ help: String,
        _ value: @escaping @Sendable (MetricsSnapshot.Queue) -> Value?
    ) -> MetricFamily {
        MetricFamily(name, kind, help, labels: ["queue"]) { snapshot in
            snapshot.queues.compactMap { queue in value(queue).map { Sample(["\(queue.queue)"], $0) } }
        }
    }

    /// A plain `Counter`, one sample per queue.
    public static func counter(_ counter: Counter, _ name: String, _ help: String) -> MetricFamily {
        perQueue(name, .counter, help) { .integer($0[counter]) }
    }

    /// One sample per queue and `PacketFamily`, labelled `queue` and `family`.
    public static func perQueueAndFamily(
        _ name: String,
        _ help: String,
        _ value: @escaping @Sendable (MetricsSnapshot.Queue, PacketFamily) -> UInt64
    ) -> MetricFamily {
        MetricFamily(name, .counter, help, labels: ["queue", "family"]) { snapshot in
            snapshot.queues.flatMap { queue in
                PacketFamily.allCases.map { Sample(["\(queue.queue)", "\($0)"], .integer(value(queue, $0))) }
            }
        }
    }

    /// A per-family `Counter`, one sample per queue and family.
    public static func counterByFamily(_ counter: Counter, _ name: String, _ help: String) -> MetricFamily {
        perQueueAndFamily(name, help) { $0[counter, $1] }
    }

    /// One sample per list source, labelled `source`; a nil value leaves the source out.
    public static func perSource(
        _ name: String,
        _ kind: Kind,
        _ help: String,
        _ value: @escaping @Sendable (MetricsSnapshot, StatsRecorder.Source) -> Value?
    ) -> MetricFamily {
        MetricFamily(name, kind, help, labels: ["source"]) { snapshot in
            snapshot.sources.compactMap { source in value(snapshot, source).map { Sample([source.path], $0) } }
        }
    }

    /// One counter sample per reason, labelled `reason`, in the order of the reasons; left out
    /// when `counts` gives nil.
    public static func byReason(
        _ name: String,
        _ help: String,
        _ counts: @escaping @Sendable (MetricsSnapshot) -> [String: UInt64]?
    ) -> MetricFamily {
        MetricFamily(name, .counter, help, labels: ["reason"]) { snapshot in
            counts(snapshot).map { counts in counts.keys.sorted().map { Sample([$0], .integer(counts[$0] ?? 0)) } }
        }
    }

    /// An info gauge: one sample, always 1, whose label values say something; left out when
    /// `values` gives nil.
    public static func info(
        _ name: String,
        _ help: String,
        labels: [String],
        _ values: @escaping @Sendable (MetricsSnapshot) -> [String]?
    ) -> MetricFamily {
        MetricFamily(name, .gauge, help, labels: labels) { snapshot in
            values(snapshot).map { [Sample($0, .integer(1))] }
        }
    }
}
