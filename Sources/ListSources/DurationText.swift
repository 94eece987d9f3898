/// Durations as operators write them: `90s`, `30m`, `1h`, `1h30m`, `500ms`, `2d`, or a bare
/// number of seconds (`45`, `0.5`). Pure; used by `--refresh-interval` and `--fetch-timeout`.
public enum DurationText {
    /// Why a text is not a duration.
    public struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        public var text: String
        public init(text: String) { self.text = text }
        public var description: String {
            "\"\(text)\" is not a duration (write e.g. 90s, 30m, 1h, 1h30m, 500ms, or seconds)"
        }
    }

    /// Seconds per unit.
    private static let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]

    /// The number of seconds `text` stands for; throws for an empty, negative or malformed text.
    public static func seconds(_ text: String) throws(Error) -> Double {
        let trimmed = text.trimmedBlanks()
        if let plain = Double(trimmed), plain.isFinite, plain >= 0, trimmed.first?.isNumber ?? false { return plain }
        var rest = Substring(trimmed.lowercased())
        var total = 0.0
        var parts = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number), value.isFinite else { throw Error(text: text) }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { $0.isLetter }
            guard let unit = units.first(where: { $0.0 == unitText }) else { throw Error(text: text) }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
            parts += 1
        }
        guard parts > 0 else { throw Error(text: text) }
        return total
    }

    /// A short rendering for messages: `90s` → "1m30s", `1800` → "30m", `0.25` → "250ms".
    public static func format(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        var remaining = Int(seconds.rounded())
        var text = ""
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where remaining >= size {
            text += "\(remaining / size)\(unit)"
            remaining %= size
        }
        return text
    }
}

extension String {
    fileprivate func trimmedBlanks() -> String {
        let set: Set<Character> = [" ", "\t"]
        var view = Substring(self)
        while let first = view.first, set.contains(first) { view = view.dropFirst() }
        while let last = view.last, set.contains(last) { view = view.dropLast() }
        return String(view)
    }
}
