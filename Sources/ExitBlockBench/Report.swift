/// Printing: one line per figure as soon as it is known (so a slow section shows progress),
/// and a count of missed goals at the end.
final class Report {
    private(set) var missed = 0

    func section(_ title: String) {
        print("\n== \(title)")
    }

    func add(_ figure: Figure) {
        if let goal = figure.goal, !goal.met { missed += 1 }
        print(figure.line)
    }

    func note(_ text: String) {
        print("   \(text)")
    }

    /// Three significant digits, no exponent.
    static func format(_ value: Double) -> String {
        let magnitude = abs(value)
        let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
        return fixed(value, decimals: decimals)
    }

    static func fixed(_ value: Double, decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = String(rounded)
        if let dot = text.firstIndex(of: ".") {
            let have = text.distance(from: dot, to: text.endIndex) - 1
            if decimals == 0 {
                text = String(text[..<dot])
            } else if have < decimals {
                text += String(repeating: "0", count: decimals - have)
            } else if have > decimals {
                text = String(text[...text.index(dot, offsetBy: decimals)])
            }
        }
        return text
    }

    /// `1174` -> `1,174`.
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return result
    }
}

/// The median of a non-empty list.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
