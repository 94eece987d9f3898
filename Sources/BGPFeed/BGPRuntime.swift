import ExitSet
import Foundation
import LinuxSystem
import ListSources

/// The running feed of `exitblock bgp`: the route feed and its input, what each update did
/// said on the output, the retries of a failed speaker, and the allowlist reload on SIGHUP.
/// The daemon (start sequence, stats server, signals) drives it.
public final class BGPRuntime: Sendable {
    public let configuration: BGPFeedConfiguration
    public let feed: RouteFeed
    public let input: RouteInput
    private let reporter: any SourceReporting

    /// The feed for `configuration`, starting from `set` and `allowlist`.
    public init(
        configuration: BGPFeedConfiguration,
        set: ExitSet,
        allowlist: ExitSet,
        reporter: any SourceReporting
    ) {
        self.configuration = configuration
        feed = RouteFeed(
            planner: RoutePlanner(settings: configuration.settings, maximumRoutes: configuration.maximumRoutes),
            speaker: Self.makeSpeaker(configuration),
            ledger: configuration.ledgerPath.map(RouteLedger.init(path:))
        )
        input = RouteInput(set: set, allowlist: allowlist)
        self.reporter = reporter
    }

    /// The first update, at start; said on the output.
    public func start() -> RouteFeed.Outcome {
        let first = feed.update(exits: input.set, allowlist: input.allowlist)
        report(first, start: true)
        return first
    }

    /// A new set from the refresher: stored and fed. Returns the grace period (none: 0).
    public func publish(_ set: ExitSet) -> UInt64 {
        input.store(set: set)
        report(feed.update(exits: set, allowlist: input.allowlist), start: false)
        return 0
    }

    /// Gives the set again every `interval` while the speaker failed (BIRD down, say), until
    /// the task is cancelled.
    public func retry(every interval: Duration = .seconds(5)) async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: interval)
            guard feed.needsRetry else { continue }
            report(feed.update(exits: input.set, allowlist: input.allowlist), start: false)
        }
    }

    /// SIGHUP: reloads the allowlist files and puts the routes in step; on failure the
    /// allowlist in force stays.
    public func reloadAllowlist() {
        guard !configuration.allows.isEmpty else { return }
        do {
            let allowlist = try Allowlist.load(configuration.allows)
            input.store(allowlist: allowlist.set)
            Output.message("reloaded " + allowlist.summary)
            report(feed.update(exits: input.set, allowlist: allowlist.set), start: false)
        } catch {
            reporter.recordRefusal(path: nil, reason: "allowlist_" + error.reason, error: "\(error)")
            Output.error("allowlist reload refused, the previous allowlist stays in force: \(error)")
        }
    }

    /// Says what an update did.
    private func report(_ outcome: RouteFeed.Outcome, start: Bool) {
        let inForce = RouteCount(feed.routes)
        let dryRun = configuration.dryRun
        switch outcome {
        case .applied(let delta):
            let count = start ? inForce.total : delta.announce.count
            Output.message(
                "bgp: \(dryRun ? "would announce" : "announced") \(count), "
                    + "\(dryRun ? "would withdraw" : "withdrew") \(delta.withdraw.count); \(inForce) routes in force"
            )
        case .unchanged:
            break
        case .refused(let error):
            Output.error("bgp: update refused (\(error.reason)): \(error); \(inForce) routes stay in force")
        }
    }

    /// The speaker of `configuration`; in dry-run one that prints in the chosen speaker's form.
    private static func makeSpeaker(_ configuration: BGPFeedConfiguration) -> any RouteSpeaker {
        let birdConfig = configuration.birdConfig
        guard configuration.dryRun else {
            switch configuration.speaker {
            case .exabgp:
                return ExaBGPSpeaker(settings: configuration.settings)
            case .bird:
                return BIRDSpeaker(
                    config: birdConfig,
                    includePath: configuration.birdInclude,
                    socketPath: configuration.birdSocket
                )
            }
        }
        let commands = ExaBGPCommands(settings: configuration.settings)
        let kind = configuration.speaker
        return DryRunSpeaker(
            render: { delta, routes, initial in
                switch kind {
                case .exabgp:
                    let lines = initial ? routes.map(commands.announce) : commands.lines(for: delta)
                    return lines.joined(separator: "\n")
                case .bird:
                    return birdConfig.text(for: routes).trimmingCharacters(in: .newlines)
                }
            },
            print: { Output.line($0) }
        )
    }
}
