/// The packet marks the policy sets and the rules match, kept here, below the engine, so that
/// both sides read the same values: the engine's `Policy` answers with them, the rule sets
/// match them.
public enum PacketMark {
    /// The mark `--reject` uses unless told otherwise ("EB").
    public static let defaultReject: UInt32 = 0x4542

    /// `0x4542`, or `0x10/0x10` when the mask is not every bit (iptables-save's spelling).
    public static func text(_ value: UInt32, mask: UInt32) -> String {
        let text = "0x" + String(value, radix: 16)
        return mask == 0xffff_ffff ? text : text + "/0x" + String(mask, radix: 16)
    }
}
