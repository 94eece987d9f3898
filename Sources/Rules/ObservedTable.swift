/// One table (mangle or filter) of one family as the kernel holds it, reduced to what the
/// rule watch compares: each chain's rules as shapes, in order. Read without a program:
/// `XtablesBlob` (iptables-legacy) or `NftRuleDump` (iptables-nft).
public struct ObservedTable: Sendable, Equatable {
    /// Chain name to its rules (a built-in chain's policy is not a rule).
    public var chains: [String: [RuleShape]]

    public init(chains: [String: [RuleShape]] = [:]) {
        self.chains = chains
    }

    /// The rules of `chain`; nil when the chain does not exist.
    public func rules(of chain: String) -> [RuleShape]? { chains[chain] }
}
