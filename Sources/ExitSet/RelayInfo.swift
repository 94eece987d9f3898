/// A relay that gave an entry of a consensus or Onionoo list, for explaining a match
/// (`exitblock check`): its nickname and the port policy it gave that address's family.
public struct RelayInfo: Sendable, Hashable {
    public var nickname: String
    public var policy: PortPolicy

    public init(nickname: String, policy: PortPolicy) {
        self.nickname = nickname
        self.policy = policy
    }
}
