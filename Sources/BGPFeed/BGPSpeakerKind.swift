/// Which BGP speaker `exitblock bgp` feeds.
public enum BGPSpeakerKind: String, Sendable, CaseIterable {
    /// ExaBGP runs `exitblock bgp` as an API process and reads commands from its stdout.
    case exabgp
    /// BIRD 2 includes a file of static routes and is reloaded through its control socket.
    case bird
}
