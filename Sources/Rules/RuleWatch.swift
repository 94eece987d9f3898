import LinuxSystem
import Netlink
import Dispatch
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Watches exitblock's rules and sets while the daemon runs, and says at once when they are
/// gone or changed: a firewall reload that drops them must not leave the daemon reporting
/// healthy while nothing is queued.
///
/// One thread looks at each family's tables (`KernelRuleReader`: getsockopt for
/// iptables-legacy, nf_tables dumps for iptables-nft, ipset HEADER for the sets; no program
/// started) every `interval` and at once when nf_tables announces a change on its multicast
/// group (NFNLGRP_NFTABLES); legacy x_tables announce nothing, so they are found by the
/// periodic look. A family is watched once its layout was seen complete (or from the start
/// when `required`); then a look that finds a part missing makes it not intact (the stats'
/// health says so) until the parts are back, whoever puts them back. With `restore`, the
/// watch puts them back itself through `restorer` (the rule installer), at most once a second
/// per family while they stay missing.
public final class RuleWatch: Sendable {
    /// What to watch and how.
    public struct Configuration: Sendable {
        /// The rules `rules install` put in place (from the same settings).
        public var rules: RuleSet
        /// Which iptables holds them (auto: whichever holds the chain).
        public var backend: RuleSettings.Backend
        /// Watch each family from the start, even when its layout is not there yet.
        public var required: Bool
        /// Put the layout back when it is missing (`--restore-rules`).
        public var restore: Bool
        /// Milliseconds between looks when nothing is announced.
        public var intervalMilliseconds: Int32

        public init(
            rules: RuleSet,
            backend: RuleSettings.Backend = .auto,
            required: Bool = false,
            restore: Bool = false,
            intervalMilliseconds: Int32 = 250
        ) {
            self.rules = rules
            self.backend = backend
            self.required = required || restore
            self.restore = restore
            self.intervalMilliseconds = intervalMilliseconds
        }
    }

    /// Puts one family's layout back through a backend (legacy or nft: the one the watch
    /// read); throws what went wrong (logged, counted).
    public typealias Restorer = @Sendable (RuleSettings.Family, RuleSettings.Backend) throws -> Void

    public let configuration: Configuration
    let layouts: [RuleLayout]
    private let state: Mutex<RuleWatchFigures>
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let log: @Sendable (String) -> Void
    private let warn: @Sendable (String) -> Void
    private let restorer: Restorer?
    private let legacyNames = KernelRuleReader.LegacyNames()

    /// A watch of `configuration`, not started; create it before the privileges are dropped
    /// (the legacy table-name files are root's). `log` hears what changes for the better,
    /// `warn` what breaks.
    public init(
        configuration: Configuration,
        restorer: Restorer?,
        log: @escaping @Sendable (String) -> Void,
        warn: @escaping @Sendable (String) -> Void
    ) {
        self.configuration = configuration
        layouts = configuration.rules.families.map { RuleLayout(configuration.rules, family: $0) }
        self.restorer = restorer
        self.log = log
        self.warn = warn
        let families = layouts.map {
            RuleWatchFigures.Family(
                family: $0.family.rawValue,
                watched: configuration.required,
                intact: !configuration.required,
                backend: "",
                problems: []
            )
        }
        state = Mutex(RuleWatchFigures(families: families, restoreEnabled: configuration.restore))
    }

    /// The figures now.
    public var figures: RuleWatchFigures { state.withLock { $0 } }

    /// Starts the watching thread; its first look happens at once.
    public func start() {
        // Linux keeps 15 bytes of a thread's name.
        SystemThread.start(name: "exitblock-rules") { [self] in
            run()
            finished.signal()
        }
    }

    /// Stops the thread and waits for it (at most one interval and one look).
    public func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        _ = finished.wait(timeout: .now() + .seconds(3))
    }

    private func run() {
        let reader: KernelRuleReader
        do { reader = try KernelRuleReader(legacyNames: legacyNames) } catch {
            warn("rules watch: cannot open a netlink socket (\(error)); the rules are not watched")
            return
        }
        // Without the group (an old kernel, no nf_tables), the periodic look alone.
        var notifications = try? NetlinkSocket()
        do { try notifications?.joinGroup(RuleWatchMessage.nftablesGroup) } catch { notifications = nil }
        var lastRestore: [RuleSettings.Family: ContinuousClock.Instant] = [:]
        while !stopping.load(ordering: .relaxed) {
            for layout in layouts { check(layout, reader: reader, lastRestore: &lastRestore) }
            let interval = configuration.intervalMilliseconds
            if let notifications {
                if (try? notifications.waitReadable(milliseconds: interval)) == true {
                    // A transaction announces each of its objects: let it end, then look once.
                    SystemThread.sleep(seconds: 0.01)
                    _ = notifications.drain()
                }
            } else {
                SystemThread.sleep(seconds: Double(interval) / 1000)
            }
        }
    }

    /// One look at `layout`'s family; logs and restores on a change.
    func check(
        _ layout: RuleLayout,
        reader: KernelRuleReader,
        lastRestore: inout [RuleSettings.Family: ContinuousClock.Instant]
    ) {
        let family = layout.family
        guard let look = reader.look(family, backend: configuration.backend, sets: layout.sets) else { return }
        let problems = layout.problems(mangle: look.mangle, filter: look.filter, presentSets: look.presentSets)
        let backend = look.backend.rawValue
        let change = record(family, backend: backend, problems: problems)
        let name = "\(family.rawValue) (iptables-\(backend))"
        report(change, name: name, problems: problems)
        if change == .healed { lastRestore[family] = nil }
        let watched = state.withLock { $0.families.contains { $0.family == family.rawValue && $0.watched } }
        guard watched, !problems.isEmpty, configuration.restore, let restorer else { return }
        let now = ContinuousClock.now
        if let last = lastRestore[family], now - last < .seconds(1) { return }
        lastRestore[family] = now
        do {
            try restorer(family, look.backend)
            state.withLock { $0.restores += 1 }
            log("rules watch: \(name) layout restored")
            check(layout, reader: reader, lastRestore: &lastRestore)
        } catch {
            state.withLock { $0.restoreFailures += 1 }
            warn("rules watch: \(name) restore failed: \(error)")
        }
    }

    /// Logs what a look changed.
    private func report(_ change: Change, name: String, problems: [String]) {
        switch change {
        case .broke:
            let next =
                configuration.restore
                ? "restoring"
                : "health is 503 until it is back (`exitblock rules install`, or run with --restore-rules)"
            warn("rules watch: \(name) layout broken: \(problems.joined(separator: "; ")); \(next)")
        case .healed:
            log("rules watch: \(name) layout intact again")
        case .watchedNow:
            log("rules watch: \(name) layout in place; watched")
        case .notYet:
            log(
                "rules watch: \(name) layout not in place (\(problems.joined(separator: "; "))); "
                    + "watched once `exitblock rules install` puts it there (--watch-rules on requires it)"
            )
        case .none: break
        }
    }

    /// What a look changed for a family.
    enum Change: Equatable {
        case none
        /// Watched, was intact, is not.
        case broke
        /// Watched, was not intact, is.
        case healed
        /// Seen complete for the first time (auto): watched from now on.
        case watchedNow
        /// The first look of a family not watched yet found its layout incomplete.
        case notYet
    }

    /// Records a look's result and says what it changed.
    private func record(_ family: RuleSettings.Family, backend: String, problems: [String]) -> Change {
        state.withLock { figures in
            figures.checks += 1
            guard let index = figures.families.firstIndex(where: { $0.family == family.rawValue }) else {
                return .none
            }
            var entry = figures.families[index]
            defer { figures.families[index] = entry }
            let first = entry.backend.isEmpty
            entry.backend = backend
            if !entry.watched {
                guard problems.isEmpty else { return first ? .notYet : .none }
                entry.watched = true
                entry.intact = true
                return .watchedNow
            }
            // Watched from the start (required): the first look says which way it is.
            let wasIntact = first ? true : entry.intact
            entry.intact = problems.isEmpty
            entry.problems = problems
            if first && problems.isEmpty { return .watchedNow }
            if wasIntact && !problems.isEmpty {
                figures.breaks += 1
                return .broke
            }
            return !wasIntact && problems.isEmpty ? .healed : .none
        }
    }
}
