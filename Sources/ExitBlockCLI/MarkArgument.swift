import ArgumentParser
import ExitBlock

/// A packet mark argument: decimal or `0x` hexadecimal, not 0 (`Policy.parseMark`).
struct MarkArgument: ExpressibleByArgument, Sendable, Equatable {
    var value: UInt32

    init?(argument: String) {
        guard let value = Policy.parseMark(argument) else { return nil }
        self.value = value
    }

    init(_ value: UInt32) {
        self.value = value
    }

    var defaultValueDescription: String { "0x\(String(value, radix: 16))" }
}
