// exitblock-bench: micro-benchmarks of the exitblock hot path and set life cycle.
//
//   exitblock-bench [lookup|parse|publish|collateral|all] [--data DIR] [--quick] [--readers N]
//
// Build and run in release:
//   swift build -c release --scratch-path .build-bench --product exitblock-bench
//   .build-bench/release/exitblock-bench all
// Prints one line per figure, `name: value unit (goal ...: met|MISSED) [detail]`, a checksum
// of every measured loop's results (so the optimizer cannot drop them), and exits 1 if a
// goal was missed.

import LinuxSystem

struct Options {
    var commands: Set<String> = []
    var dataDirectory: String?
    var quick = false
    var readers = 1

    static let usage = """
        usage: exitblock-bench [lookup|parse|publish|collateral|all]... [--data DIR] [--quick] [--readers N]
          lookup   ExitSet lookups per second on one core (real lists, 100,000 synthetic prefixes)
          parse    parse + build + publish time of each real list and of a 1,000,000-line list
          publish  longest read section a worker sees while sets are published
          collateral  what --exit-policy spares: a mix from the consensus's exits, half to ports their
                   policies accept, half to ports they reject (counts, not timings)
          all      the four (default)
          --data DIR   the directory of the Tor lists (default: ../shared/data/tor)
          --quick      shorter timings (less stable figures)
          --readers N  reader threads in the publish benchmark (default 1)
        """

    static func parse(_ arguments: [String]) -> Options? {
        var options = Options()
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "lookup", "parse", "publish", "collateral": options.commands.insert(argument)
            case "all": options.commands.formUnion(["lookup", "parse", "publish", "collateral"])
            case "--quick": options.quick = true
            case "--data":
                guard let value = iterator.next() else { return nil }
                options.dataDirectory = value
            case "--readers":
                guard let value = iterator.next(), let count = Int(value), count > 0 else { return nil }
                options.readers = count
            default: return nil
            }
        }
        if options.commands.isEmpty { options.commands = ["lookup", "parse", "publish", "collateral"] }
        return options
    }
}

guard let options = Options.parse(Array(CommandLine.arguments.dropFirst())) else {
    CurrentProcess.printError(Options.usage)
    CurrentProcess.exit(2)
}
guard let data = BenchData.dataDirectory(explicit: options.dataDirectory) else {
    CurrentProcess.printError("exitblock-bench: \(BenchError.noData)")
    CurrentProcess.exit(2)
}

#if DEBUG
    print("warning: debug build; the figures mean nothing. Use swift build -c release.")
#endif
let report = Report()
print("exitblock-bench: data \(data); \(options.quick ? "quick" : "full") timings")
var checksum: UInt64 = 0
do {
    if options.commands.contains("lookup") {
        try LookupBenchmark(seconds: options.quick ? 0.1 : 0.3, repetitions: 5, dataDirectory: data)
            .run(report, checksum: &checksum)
    }
    if options.commands.contains("parse") {
        try BuildBenchmark(repetitions: options.quick ? 3 : 5, dataDirectory: data).run(report, checksum: &checksum)
    }
    if options.commands.contains("publish") {
        try PublishBenchmark(readers: options.readers, seconds: options.quick ? 0.5 : 1.5, dataDirectory: data)
            .run(report, checksum: &checksum)
    }
    if options.commands.contains("collateral") {
        try CollateralMeasurement(dataDirectory: data).run(report, checksum: &checksum)
    }
} catch {
    CurrentProcess.printError("exitblock-bench: \(error)")
    CurrentProcess.exit(2)
}
print("\nchecksum: \(checksum)")
print(report.missed == 0 ? "all goals met" : "\(report.missed) goal(s) missed")
CurrentProcess.exit(report.missed == 0 ? 0 : 1)
