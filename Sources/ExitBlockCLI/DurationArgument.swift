import ArgumentParser
import Engine
import ListSources

/// A duration option: `90s`, `30m`, `1h`, `1h30m`, `500ms`, or seconds (`DurationText`).
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var seconds: Double

    init(seconds: Double) {
        self.seconds = seconds
    }

    init?(argument: String) {
        guard let seconds = try? DurationText.seconds(argument) else { return nil }
        self.seconds = seconds
    }

    var description: String { DurationText.format(seconds) }
    var defaultValueDescription: String { description }
}
