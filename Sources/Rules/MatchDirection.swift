/// Which address of a packet is looked up in the exit set.
public enum MatchDirection: String, Sendable, Hashable, CaseIterable {
    /// The source address: traffic coming from listed addresses (the default).
    case source
    /// The destination address: clients reaching out to listed addresses.
    case destination
    /// Either address.
    case both
}
