import ExitSet

/// Speaks to nothing: prints what would be announced and withdrawn (`--dry-run`), in the form
/// the real speaker would get (ExaBGP commands, or the BIRD include file).
public struct DryRunSpeaker: RouteSpeaker {
    public let name = "dry-run"
    private let render: @Sendable (RouteDelta, [IPPrefix], Bool) -> String
    private let print: @Sendable (String) -> Void

    public init(
        render: @escaping @Sendable (RouteDelta, [IPPrefix], Bool) -> String,
        print: @escaping @Sendable (String) -> Void
    ) {
        self.render = render
        self.print = print
    }

    public func apply(_ delta: RouteDelta, routes: [IPPrefix], initial: Bool) throws(BGPFeedError) {
        let text = render(delta, routes, initial)
        if !text.isEmpty { print(text) }
    }
}
