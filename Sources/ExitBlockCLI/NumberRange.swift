import ArgumentParser

/// A `--queue` or `--cpu` argument: one number ("0") or an inclusive range ("0-3").
struct NumberRange: ExpressibleByArgument, Sendable, Equatable {
    var numbers: ClosedRange<UInt16>

    init?(argument: String) {
        let parts = argument.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2,
            let first = UInt16(parts[0]),
            let last = parts.count == 2 ? UInt16(parts[1]) : first,
            first <= last
        else { return nil }
        numbers = first...last
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
