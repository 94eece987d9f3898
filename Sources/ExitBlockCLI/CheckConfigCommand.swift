import ArgumentParser
import Engine
import ExitBlockConfiguration
import ExitSet
import LinuxSystem
import ListSources
import Stats

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `exitblock check ADDRESS --config FILE`: judges ADDRESS with the sources, allowlist and
/// policy of the file's [run] table. A URL source is taken from the disk cache of the
/// file's state directory when it holds one (what a daemon with that file starts from),
/// else fetched once; a file source is read. Exit status as `check`.
struct CheckConfigCommand {
    var config: String
    var address: IPAddress
    var port: UInt16?
    var transport: TransportProtocolArgument

    func run() throws {
        let run: RunCommand
        do {
            let file = try ConfigFile(path: config, schema: ConfigSchema.load(root: ExitBlockCommand.self))
            run = try RunCommand.parse(file.arguments(of: "run"))
        } catch {
            Output.error("\(config): \(error)")
            throw ExitCode(Status.failure)
        }
        let options = run.sourceOptions
        let (versions, dates) = try Self.load(options)
        let listings = SourceListings()
        listings.update(versions)
        let allowlist: Allowlist
        do { allowlist = try Allowlist.load(run.allows) } catch {
            Output.error("allowlist: \(error)")
            throw ExitCode(Status.failure)
        }
        let set = ExitSet(
            versions.lazy.flatMap(\.entries),
            policies: PortPolicy.merge(versions.map { ($0.entries, $0.policies) })
        )
        let policy = Policy(
            match: run.match,
            dryRun: run.dryRun,
            exitPolicy: run.exitPolicy,
            relayPorts: options.format == .relays
        )
        var answer = SetExplanation.explain(
            address,
            port: port,
            transport: transport == .udp ? 17 : 6,
            sets: PolicySets(exits: set, allowlist: allowlist.set),
            policy: policy,
            sourcesHolding: { listings.explanationSources(holding: $0) }
        )
        let now = Date().timeIntervalSince1970
        for index in answer.sources.indices {
            let date = dates[answer.sources[index].source] ?? now
            answer.sources[index].lastSuccess = date
            answer.sources[index].stale =
                ListSource(answer.sources[index].source).isURL && options.maxSourceAge.seconds > 0
                && now - date > options.maxSourceAge.seconds
        }
        for line in answer.lines(now: now) {
            Output.line(line.replacing("the running daemon", with: config))
        }
        if !answer.blocked { throw ExitCode(Status.notBlocked) }
    }

    /// Every source of `options`: its distinct sorted entries and policies, and when its
    /// bytes were had. Prints the error and throws exit status 2 when one is unusable.
    static func load(_ options: SourceOptions) throws -> ([SourceListings.Listing], [String: Double]) {
        var versions: [SourceListings.Listing] = []
        var dates: [String: Double] = [:]
        for text in options.lists {
            let source = ListSource(text)
            do {
                let (bytes, date) = try bytes(of: source, options)
                let list = try ListParser.parse(bytes, format: options.format)
                var entries = list.entries
                entries.sort()
                versions.append(.init(source: source.name, entries: distinct(entries), policies: list.policies))
                dates[source.name] = date
            } catch {
                Output.error("\(source.name): \(error)")
                throw ExitCode(Status.failure)
            }
        }
        return (versions, dates)
    }

    /// The bytes of a source and when they were had: the disk cache's copy of a URL source
    /// when there is one, else a fetch; a file's content.
    static func bytes(of source: ListSource, _ options: SourceOptions) throws -> ([UInt8], Double) {
        switch source {
        case .file(let path):
            return (try ListLoader.read(path, limit: options.maxListBytes), Date().timeIntervalSince1970)
        case .url(let url):
            if !options.noCache, let entry = SourceCache(stateDirectory: options.stateDirectory).read(source: url) {
                return (entry.bytes, entry.metadata.fetchedAt)
            }
            let fetcher = HTTPListFetcher(
                timeout: options.fetchTimeout.seconds,
                maximumBytes: options.maxListBytes,
                userAgent: "exitblock/\(MetricsSnapshot.BuildInfo.version)"
            )
            let outcome = try Blocking.wait { () async throws(SourceError) -> FetchOutcome in
                do throws(SourceError) {
                    let outcome = try await fetcher.fetch(url, conditional: ConditionalRequest())
                    await fetcher.shutdown()
                    return outcome
                } catch {
                    await fetcher.shutdown()
                    throw error
                }
            }
            guard case .content(let bytes, _) = outcome else { throw SourceError.unreadable("no content") }
            return (bytes, Date().timeIntervalSince1970)
        }
    }

    static func distinct(_ sorted: [IPPrefix]) -> [IPPrefix] {
        var unique: [IPPrefix] = []
        for entry in sorted where unique.last != entry { unique.append(entry) }
        return unique
    }
}
