import Engine

/// Renders a `MetricsSnapshot` as Prometheus text exposition, version 0.0.4: every family of
/// `MetricCatalog` that applies to the snapshot, with its HELP and TYPE lines, then its samples
/// with escaped label values. The families are data; this is the one place that writes the
/// text format.
public struct PrometheusExposition: Sendable {
    /// The Content-Type of the output.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public let snapshot: MetricsSnapshot
    /// The families rendered, in order.
    public let families: [MetricFamily]

    public init(_ snapshot: MetricsSnapshot, families: [MetricFamily] = MetricCatalog.families) {
        self.snapshot = snapshot
        self.families = families
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
        for family in families {
            guard let samples = family.samples(snapshot) else { continue }
            out.append(
                contentsOf: "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind.rawValue)\n".utf8
            )
            for sample in samples {
                out.append(contentsOf: family.name.utf8)
                out.append(contentsOf: sample.suffix.utf8)
                let names = sample.suffix == "_bucket" ? family.labels + ["le"] : family.labels
                assert(names.count == sample.labelValues.count, "\(family.name): labels and values differ")
                for (index, (name, value)) in zip(names, sample.labelValues).enumerated() {
                    out.append(UInt8(ascii: index == 0 ? "{" : ","))
                    out.append(contentsOf: "\(name)=\"\(Self.escape(value))\"".utf8)
                }
                if !names.isEmpty { out.append(UInt8(ascii: "}")) }
                out.append(UInt8(ascii: " "))
                switch sample.value {
                case .integer(let value): out.append(contentsOf: String(value).utf8)
                case .float(let value): out.append(contentsOf: Self.format(value).utf8)
                }
                out.append(UInt8(ascii: "\n"))
            }
        }
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
