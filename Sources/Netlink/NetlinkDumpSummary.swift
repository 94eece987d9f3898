/// What a dump's answer held besides the messages handed on.
public struct NetlinkDumpSummary: Sendable, Equatable {
    /// Data messages handed on.
    public var messages = 0
    /// A message carried NLM_F_DUMP_INTR: the table changed while it was read.
    public var interrupted = false
    /// Datagrams whose messages could not all be read.
    public var malformedDatagrams = 0

    public init() {}
}
