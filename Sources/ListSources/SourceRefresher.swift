import ExitSet
import Foundation
import LinuxSystem
import Logging
import Synchronization

/// Why `run` cannot start: a file source that gives no usable version and has no cached one.
public struct SourceStartError: Error, Sendable, CustomStringConvertible {
    public var source: String
    public var error: SourceError
    public var description: String { "\(source): \(error) (and no cached version to start from)" }
}

/// Keeps the exit set in step with its sources: reads file sources when they change, fetches
/// URL sources every refresh interval (conditionally, sooner after a failure), judges every new
/// version (parser, `ListGuard`), keeps the last good version of each source (in memory and in
/// the `SourceCache`), and when a source's version in force changed builds the union set off
/// the hot path and hands it to `publish` (the engine's atomic snapshot swap).
///
/// A refused or failed source keeps its previous version while the others update; a 304 or a
/// byte-identical version costs no parse and no rebuild. Every attempt is recorded in the
/// `SourceReporting` (the stats) and logged.
///
/// At start (`loadInitial`): every source's cached version is taken as its previous version;
/// file sources and URL sources without a cache are read/fetched at once; a URL source with a
/// cache starts from it (blocking at once even with the list server down) and is fetched by the
/// first pass of `run`. A file source with neither a usable version nor a cache fails the start;
/// a URL source with neither starts empty, is reported unhealthy, and is retried.
public actor SourceRefresher {
    public nonisolated let configuration: RefreshConfiguration
    private let recorder: any SourceReporting
    private let logger: Logger
    private let fetcher: any ListFetching
    private let cache: SourceCache?
    private var states: [SourceState]
    /// The union set last built (the one in force, once published).
    private var currentCount = 0
    private nonisolated let reloadRequested = Atomic<Bool>(false)
    private nonisolated let stopRequested = Atomic<Bool>(false)

    public init(
        configuration: RefreshConfiguration,
        recorder: any SourceReporting,
        logger: Logger,
        version: String,
        fetcher: (any ListFetching)? = nil
    ) {
        self.configuration = configuration
        self.recorder = recorder
        self.logger = logger
        if let fetcher {
            self.fetcher = fetcher
        } else if configuration.sources.contains(where: \.isURL) {
            self.fetcher = HTTPListFetcher(
                timeout: configuration.fetchTimeout,
                maximumBytes: configuration.maximumBytes,
                userAgent: "exitblock/\(version)"
            )
        } else {
            self.fetcher = NoFetcher()
        }
        var cache = configuration.stateDirectory.map(SourceCache.init(stateDirectory:))
        if let directory = cache {
            do {
                try directory.prepare()
            } catch {
                logger.warning(
                    "state directory unusable, running without the disk cache: \(error)",
                    metadata: ["directory": "\(directory.directory)"]
                )
                cache = nil
            }
        }
        self.cache = cache
        let now = ContinuousClock.now
        states = configuration.sources.map { SourceState(source: $0, due: now) }
    }

    // MARK: Start

    /// Loads every source for the start (see the type's documentation) and returns the union
    /// set to start with. Throws when a file source has no usable version.
    public func loadInitial() async throws(SourceStartError) -> ExitSet {
        let now = WallClock.now()
        for index in states.indices {
            loadCache(index, now: now)
        }
        let first = states.indices.filter { !states[$0].source.isURL || states[$0].good == nil }
        _ = await refresh(first, trigger: "start")
        for index in states.indices where states[index].good == nil {
            let state = states[index]
            let error = state.lastError ?? .unreadable("no version")
            if !state.source.isURL { throw SourceStartError(source: state.source.name, error: error) }
            logger.warning(
                "\(state.source.name): no version and no cached one; starting without it and retrying",
                metadata: ["source": "\(state.source.name)", "reason": "\(error.reason)"]
            )
        }
        let set = buildSet()
        currentCount = set.count
        return set
    }

    /// Takes the cached version of source `index`, if any, as its version in force.
    private func loadCache(_ index: Int, now: Double) {
        let source = states[index].source
        guard let cache, let entry = cache.read(source: source.name) else { return }
        let format = configuration.format ?? ListFormat(rawValue: entry.metadata.format)
        let list: ParsedList
        do {
            list = try ListParser.parse(entry.bytes, format: format)
        } catch {
            logger.warning(
                "\(source.name): cached version unusable, ignored: \(error)",
                metadata: ["source": "\(source.name)"]
            )
            return
        }
        let version = GoodVersion(
            list: list,
            checksum: entry.metadata.checksum,
            confirmedAt: entry.metadata.fetchedAt,
            fromCache: true
        )
        if case .refuse(let refusal) = configuration.guards.check(version.entries, previousCount: nil) {
            logger.warning(
                "\(source.name): cached version refused by the guards, ignored: \(refusal)",
                metadata: ["source": "\(source.name)"]
            )
            return
        }
        states[index].good = version
        states[index].conditional = entry.consistent ? entry.metadata.conditional : ConditionalRequest()
        let age = max(0, now - entry.metadata.fetchedAt)
        logger.info(
            "\(source.name): cached version loaded: \(version.entries.count) entries, fetched \(DurationText.format(age)) ago",
            metadata: ["source": "\(source.name)", "format": "\(version.format)", "age_seconds": "\(Int(age))"]
        )
        recorder.updateSource(status(of: states[index], now: now))
    }

    // MARK: Loop

    /// Refreshes what is due until `requestStop` (or cancellation): URL sources every refresh
    /// interval, file sources when their signature changed, every source on `requestReload`.
    /// `publish` gets each new union set; it returns the grace period in ns (for the log).
    /// `reloaded` is called when a reload asked by `requestReload` is over, whether its
    /// versions were taken or refused.
    public func run(
        publish: @escaping @Sendable (ExitSet) -> UInt64,
        reloaded: @escaping @Sendable () -> Void = {}
    ) async {
        while !stopRequested.load(ordering: .relaxed) && !Task.isCancelled {
            let reload = reloadRequested.exchange(false, ordering: .acquiringAndReleasing)
            let due = dueSources(all: reload, now: .now)
            if !due.isEmpty {
                let trigger = reload ? "SIGHUP" : "refresh"
                if reload { logger.info("reloading every source (SIGHUP)") }
                if await refresh(due, trigger: trigger), !stopRequested.load(ordering: .relaxed) {
                    publishSet(publish)
                }
            }
            if reload { reloaded() }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Asks the loop to refresh every source at once (SIGHUP). Returns at once.
    public nonisolated func requestReload() {
        reloadRequested.store(true, ordering: .releasing)
    }

    /// Asks the loop to end after the current pass; cancel its task to abort fetches.
    public nonisolated func requestStop() {
        stopRequested.store(true, ordering: .releasing)
    }

    /// Closes the HTTP client.
    public func shutdown() async {
        await fetcher.shutdown()
    }

    /// One pass over every source now, publishing if something changed; true if it did. For
    /// tests and tools (the loop does the same on SIGHUP).
    @discardableResult
    public func refreshAll(publish: @escaping @Sendable (ExitSet) -> UInt64) async -> Bool {
        guard await refresh(Array(states.indices), trigger: "refresh") else { return false }
        publishSet(publish)
        return true
    }

    /// The sources to refresh now; also does the file polls.
    private func dueSources(all: Bool, now: ContinuousClock.Instant) -> [Int] {
        if all { return Array(states.indices) }
        var due: [Int] = []
        for index in states.indices where states[index].due <= now {
            switch states[index].source {
            case .url:
                due.append(index)
            case .file(let path):
                states[index].due = now + .seconds(configuration.filePollInterval)
                let signature = FileSignature.of(path)
                if signature == states[index].signature {
                    states[index].pendingSignature = nil
                } else if signature == states[index].pendingSignature {
                    due.append(index)
                } else {
                    states[index].pendingSignature = signature
                }
            }
        }
        return due
    }

    // MARK: A pass

    /// Reads/fetches the sources `indices` concurrently, then judges each result against its
    /// state in order. True when some source's version in force changed.
    private func refresh(_ indices: [Int], trigger: String) async -> Bool {
        let inputs = indices.map { (index: $0, state: states[$0]) }
        let format = configuration.format
        let fetcher = self.fetcher
        let maximumBytes = configuration.maximumBytes
        let results = await withTaskGroup(of: (Int, Attempt, FileSignature?, Double).self) { group in
            for input in inputs {
                group.addTask {
                    let started = ContinuousClock.now
                    let (attempt, signature) = await Self.attempt(
                        input.state,
                        fetcher: fetcher,
                        format: format,
                        maximumBytes: maximumBytes
                    )
                    let elapsed = started.duration(to: .now)
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                    return (input.index, attempt, signature, seconds)
                }
            }
            var results: [(Int, Attempt, FileSignature?, Double)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        if stopRequested.load(ordering: .relaxed) || Task.isCancelled { return false }
        var changed = false
        for (index, attempt, signature, seconds) in results {
            if case .file = states[index].source {
                states[index].signature = signature
                states[index].pendingSignature = nil
            }
            if apply(attempt, to: index, seconds: seconds, trigger: trigger) { changed = true }
        }
        return changed
    }

    /// Reads or fetches one source; parses unless the bytes are the version in force. Runs
    /// concurrently with the other sources' attempts, touching no state.
    private static func attempt(
        _ state: SourceState,
        fetcher: any ListFetching,
        format: ListFormat?,
        maximumBytes: Int
    ) async -> (Attempt, FileSignature?) {
        let bytes: [UInt8]
        var conditional = ConditionalRequest()
        var signature: FileSignature?
        switch state.source {
        case .file(let path):
            signature = FileSignature.of(path)
            do {
                bytes = try ListLoader.read(path, limit: maximumBytes)
            } catch {
                switch error {
                case .tooLarge: return (.failed(.tooLarge(limit: maximumBytes)), signature)
                default: return (.failed(.unreadable(Self.reason(of: error))), signature)
                }
            }
        case .url(let url):
            do {
                switch try await fetcher.fetch(url, conditional: state.conditional) {
                case .notModified(let validators): return (.notModified(validators), nil)
                case .content(let body, let validators):
                    bytes = body
                    conditional = validators
                }
            } catch {
                return (.failed(error), nil)
            }
        }
        let checksum = SourceCache.checksum(bytes)
        if let good = state.good, good.checksum == checksum {
            return (.content(checksum: checksum, bytes: bytes, conditional: conditional, parsed: nil), signature)
        }
        let parsed = Result { () throws(ListError) -> ParsedList in try ListParser.parse(bytes, format: format) }
        return (.content(checksum: checksum, bytes: bytes, conditional: conditional, parsed: parsed), signature)
    }

    private static func reason(of error: ListLoadError) -> String {
        if case .unreadable(_, let reason) = error { return reason }
        return "\(error)"
    }

    /// Judges one attempt against source `index`'s state; true when its version in force changed.
    private func apply(_ attempt: Attempt, to index: Int, seconds: Double, trigger: String) -> Bool {
        let now = WallClock.now()
        let metadata: Logger.Metadata = [
            "source": "\(states[index].source.name)", "trigger": "\(trigger)",
            "ms": "\(Int((seconds * 1000).rounded()))",
        ]
        states[index].lastAttempt = now
        switch attempt {
        case .failed(let error):
            fail(index, error, now: now, metadata: metadata)
            return false
        case .notModified(let validators):
            applyNotModified(validators, to: index, now: now, metadata: metadata)
            return false
        case .content(_, _, let validators, .none):
            // Byte for byte the version in force.
            if states[index].source.isURL { states[index].conditional = validators }
            confirmUnchanged(index, .unchanged, now: now, metadata: metadata)
            return false
        case .content(let checksum, let bytes, let validators, let parsed?):
            let list: ParsedList
            switch parsed {
            case .failure(let error):
                fail(index, .list(error), now: now, metadata: metadata)
                return false
            case .success(let value):
                list = value
            }
            let version = GoodVersion(list: list, checksum: checksum, confirmedAt: now, fromCache: false)
            guard passesGuards(version, of: index, now: now, metadata: metadata) else { return false }
            return adopt(version, list: list, bytes: bytes, validators: validators, index: index, metadata: metadata)
        }
    }

    /// A 304: the version in force is current. To an unconditional request (no version in
    /// force) it is a failure, and the next request asks in full.
    private func applyNotModified(
        _ validators: ConditionalRequest,
        to index: Int,
        now: Double,
        metadata: Logger.Metadata
    ) {
        guard states[index].good != nil else {
            states[index].conditional = ConditionalRequest()
            fail(index, .httpStatus(304), now: now, metadata: metadata)
            return
        }
        states[index].conditional = states[index].conditional.updated(byNotModified: validators)
        confirmUnchanged(index, .notModified, now: now, metadata: metadata)
    }

    /// The version in force was confirmed (304, or the same bytes): recorded and logged.
    private func confirmUnchanged(_ index: Int, _ result: SourceResult, now: Double, metadata: Logger.Metadata) {
        confirm(index, now: now)
        succeed(index, result, now: now)
        writeCacheMetadata(index)
        let said = result == .notModified ? "not modified (304)" : "unchanged"
        logger.debug("\(states[index].source.name): \(said)", metadata: metadata)
    }

    /// The guards' verdict on a new version of source `index`: false (recorded as a failure)
    /// when refused; risks let through by --accept-risky-lists are logged.
    private func passesGuards(_ version: GoodVersion, of index: Int, now: Double, metadata: Logger.Metadata) -> Bool {
        let name = states[index].source.name
        switch configuration.guards.check(version.entries, previousCount: states[index].good?.entries.count) {
        case .refuse(let refusal):
            fail(index, .guarded(refusal), now: now, metadata: metadata)
            return false
        case .acceptRisky(let risks):
            for risk in risks {
                logger.warning(
                    "\(name): accepted despite the guards (--accept-risky-lists): \(risk)",
                    metadata: metadata.merging(["reason": "\(risk.reason)"]) { $1 }
                )
            }
            return true
        case .accept:
            return true
        }
    }

    /// Puts a new version of source `index` in force, caches and logs it; true when the set
    /// changes with it.
    private func adopt(
        _ version: GoodVersion,
        list: ParsedList,
        bytes: [UInt8],
        validators: ConditionalRequest,
        index: Int,
        metadata: Logger.Metadata
    ) -> Bool {
        let name = states[index].source.name
        let previous = states[index].good
        let difference = GoodVersion.difference(from: previous?.entries ?? [], to: version.entries)
        states[index].good = version
        if states[index].source.isURL { states[index].conditional = validators }
        succeed(index, .ok, now: version.confirmedAt)
        writeCache(index, bytes: bytes)
        var metadata = metadata
        metadata["format"] = "\(version.format)"
        metadata["entries"] = "\(version.entries.count)"
        metadata["added"] = "\(difference.added)"
        metadata["removed"] = "\(difference.removed)"
        if list.rejectedCount > 0 { metadata["rejected_lines"] = "\(list.rejectedCount)" }
        let text =
            "\(name): \(version.format), \(version.entries.count) entries (\(version.ipv4Count) IPv4, "
            + "\(version.ipv6Count) IPv6), +\(difference.added) -\(difference.removed), "
            + "\(list.rejectedCount) line(s) rejected, read in \(metadata["ms"] ?? "?") ms"
        logger.info("\(text)", metadata: metadata)
        for rejected in list.rejected.prefix(5) {
            logger.notice("\(name):\(rejected.line): \(rejected.reason)", metadata: ["source": "\(name)"])
        }
        // A change of port policies alone (same addresses) also gives a new set.
        return difference.added > 0 || difference.removed > 0 || previous == nil
            || previous?.policies != version.policies
    }

    private func confirm(_ index: Int, now: Double) {
        states[index].good?.confirmedAt = now
        states[index].good?.fromCache = false
    }

    private func succeed(_ index: Int, _ result: SourceResult, now: Double) {
        states[index].failures = 0
        states[index].lastResult = result
        states[index].lastError = nil
        if states[index].source.isURL {
            states[index].due = .now + .seconds(configuration.refreshInterval)
        }
        recorder.recordAttempt(status(of: states[index], now: now), result: result.rawValue, reason: nil)
    }

    private func fail(_ index: Int, _ error: SourceError, now: Double, metadata: Logger.Metadata) {
        states[index].failures += 1
        states[index].lastResult = error.result
        states[index].lastError = error
        let delay = configuration.delay(afterFailures: states[index].failures)
        if states[index].source.isURL {
            states[index].due = .now + .seconds(delay)
        }
        recorder.recordAttempt(status(of: states[index], now: now), result: error.result.rawValue, reason: error.reason)
        let state = states[index]
        let keeps = state.good == nil ? "the source has no version in force" : "its previous version stays in force"
        let retry = state.source.isURL ? "; next try in \(DurationText.format(delay))" : ""
        logger.warning(
            "\(state.source.name): \(error.result == .refused ? "refused" : "failed") (\(error.reason)): \(error); \(keeps)\(retry)",
            metadata: metadata.merging(["reason": "\(error.reason)", "result": "\(error.result.rawValue)"]) { $1 }
        )
    }

    // MARK: Cache

    private func writeCache(_ index: Int, bytes: [UInt8]) {
        guard let cache, let good = states[index].good else { return }
        let metadata = SourceCache.Metadata(
            source: states[index].source.name,
            conditional: states[index].conditional,
            fetchedAt: good.confirmedAt,
            format: good.format.rawValue,
            bytes: bytes
        )
        do {
            try cache.write(bytes, metadata: metadata)
        } catch {
            logger.warning(
                "\(metadata.source): cannot write the disk cache: \(error)",
                metadata: ["source": "\(metadata.source)"]
            )
        }
    }

    /// After a 304 or an identical version: the cached bytes stay, the metadata gets the new
    /// fetched-at (and validators).
    private func writeCacheMetadata(_ index: Int) {
        guard let cache, let good = states[index].good else { return }
        let name = states[index].source.name
        guard let entry = cache.read(source: name), entry.metadata.checksum == good.checksum else { return }
        var metadata = entry.metadata
        metadata.etag = states[index].conditional.etag
        metadata.lastModified = states[index].conditional.lastModified
        metadata.fetchedAt = good.confirmedAt
        metadata.format = good.format.rawValue
        do {
            try cache.writeMetadata(metadata)
        } catch {
            logger.warning("\(name): cannot write the disk cache: \(error)", metadata: ["source": "\(name)"])
        }
    }

    // MARK: The set

    private func buildSet() -> ExitSet {
        let good = states.compactMap(\.good)
        configuration.listings?.update(
            states.compactMap { state in
                state.good.map { .init(source: state.source.name, entries: $0.entries, policies: $0.policies) }
            }
        )
        let policies = PortPolicy.merge(good.map { ($0.entries, $0.policies) })
        return ExitSet(good.lazy.flatMap(\.entries), policies: policies)
    }

    private func publishSet(_ publish: @Sendable (ExitSet) -> UInt64) {
        let started = ContinuousClock.now
        let set = buildSet()
        let built = started.duration(to: .now)
        let grace = publish(set)
        recorder.recordRebuild()
        let sources = states.filter { $0.good != nil }.count
        let text =
            "published a new set: \(currentCount) -> \(set.count) entries (\(set.ipv4Count) IPv4, \(set.ipv6Count) IPv6) "
            + "from \(sources) of \(states.count) source(s); built in \(Self.milliseconds(built)) ms, "
            + "grace period \(grace / 1000) us"
        logger.info("\(text)", metadata: ["entries": "\(set.count)", "build_ms": "\(Self.milliseconds(built))"])
        currentCount = set.count
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// The stats recorder's view of a source.
    private func status(of state: SourceState, now: Double) -> SourceStatus {
        var source = SourceStatus(
            path: state.source.name,
            ipv4Entries: state.good?.ipv4Count ?? 0,
            ipv6Entries: state.good?.ipv6Count ?? 0,
            lastRefresh: state.lastAttempt,
            lastRefreshOK: state.lastError == nil,
            lastError: state.lastError.map { "\($0)" } ?? ""
        )
        source.kind = state.source.kind
        source.format = state.good?.format.rawValue ?? ""
        source.lastResult = state.lastResult?.rawValue ?? ""
        source.lastReason = state.lastError?.reason ?? ""
        source.lastSuccess = state.good?.confirmedAt ?? 0
        source.fromCache = state.good?.fromCache ?? false
        source.loaded = state.good != nil
        source.maxAge = state.source.isURL ? configuration.maxSourceAge : 0
        return source
    }
}

/// The fetcher of a refresher without URL sources: no HTTP client, no thread.
private struct NoFetcher: ListFetching {
    func fetch(_ url: String, conditional: ConditionalRequest) async throws(SourceError) -> FetchOutcome {
        throw .connection("no HTTP client")
    }

    func shutdown() async {}
}
