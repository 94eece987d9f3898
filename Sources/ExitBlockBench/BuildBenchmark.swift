import Engine
import ExitSet

/// Time from list bytes to a published snapshot: parse (`ListParser.parse`), build
/// (`ExitSet.init`), publish (`SnapshotCell.publish`, one registered reader, idle, as a
/// worker waiting in `recvmmsg`). Reading the file is not counted.
struct BuildBenchmark {
    var repetitions: Int
    var dataDirectory: String
    /// Lines of the synthetic list.
    var syntheticCount = 1_000_000

    func run(_ report: Report, checksum: inout UInt64) throws(BenchError) {
        report.section("parse + build + publish (median of \(repetitions); file read not counted)")
        for name in BenchData.realLists {
            let bytes = try BenchData.read("\(dataDirectory)/\(name)")
            try measure(report, name: name, bytes: bytes, checksum: &checksum)
        }
        let text = BenchData.syntheticListText(count: syntheticCount, seed: 7)
        try measure(report, name: "synthetic \(Report.grouped(syntheticCount)) lines", bytes: text, checksum: &checksum)
    }

    private func measure(_ report: Report, name: String, bytes: [UInt8], checksum: inout UInt64) throws(BenchError) {
        let cell = SnapshotCell(ExitSet.empty)
        let reader = cell.makeReader()
        defer { cell.removeReader(reader) }
        var parse: [Double] = []
        var build: [Double] = []
        var publish: [Double] = []
        var total: [Double] = []
        var entries = 0
        var counts = (ipv4: 0, ipv6: 0)
        var format = ""
        for _ in 0..<repetitions {
            let start = BenchClock.now()
            let parsed: ParsedList
            do {
                parsed = try ListParser.parse(bytes)
            } catch {
                throw .cannotParse(name, "\(error)")
            }
            let parsedAt = BenchClock.now()
            let set = ExitSet(parsed.entries)
            let builtAt = BenchClock.now()
            cell.publish(set)
            let publishedAt = BenchClock.now()
            parse.append(Double(parsedAt - start))
            build.append(Double(builtAt - parsedAt))
            publish.append(Double(publishedAt - builtAt))
            total.append(Double(publishedAt - start))
            entries = set.count
            counts = (set.ipv4Count, set.ipv6Count)
            format = parsed.format.description
            checksum &+= UInt64(set.count)
        }
        let milliseconds = median(total) / 1e6
        report.add(
            Figure(
                name: "build \(name) (\(format), \(Report.grouped(entries)) entries: "
                    + "\(Report.grouped(counts.ipv4)) IPv4, \(Report.grouped(counts.ipv6)) IPv6)",
                value: milliseconds,
                unit: "ms",
                goal: ("< 1 s", milliseconds < 1000),
                detail: "parse \(Report.format(median(parse) / 1e6)) + set \(Report.format(median(build) / 1e6)) "
                    + "+ publish \(Report.format(median(publish) / 1e6)) ms; "
                    + "\(Report.format(Double(bytes.count) / 1e6)) MB"
            )
        )
    }
}
