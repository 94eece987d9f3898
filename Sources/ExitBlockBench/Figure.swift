/// One printed figure: `name: value unit (goal ...: met|MISSED) [detail]`.
struct Figure {
    var name: String
    var value: Double
    var unit: String
    /// The goal as text (`>= 100 M/s`) and whether it was met; nil when there is no goal.
    var goal: (text: String, met: Bool)?
    var detail: String = ""

    var line: String {
        var text = "\(name): \(Report.format(value)) \(unit)"
        if let goal { text += " (goal \(goal.text): \(goal.met ? "met" : "MISSED"))" }
        if !detail.isEmpty { text += " [\(detail)]" }
        return text
    }
}
