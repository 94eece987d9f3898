import NetfilterQueue

/// Everything the engine needs, built once (by the CLI) and passed down.
public struct EngineConfiguration: Sendable, Equatable {
    /// Queue numbers to bind, one worker thread each.
    public var queues: [UInt16]
    /// Socket and queue tuning shared by every queue (its `queue` field is ignored).
    public var queueTemplate: QueueConfiguration
    /// The verdict policy.
    public var policy: Policy

    public init(queues: [UInt16], queueTemplate: QueueConfiguration = QueueConfiguration(queue: 0), policy: Policy = Policy()) {
        self.queues = queues
        self.queueTemplate = queueTemplate
        self.policy = policy
    }

    /// The configuration of queue `number`.
    public func queueConfiguration(_ number: UInt16) -> QueueConfiguration {
        var configuration = queueTemplate
        configuration.queue = number
        return configuration
    }
}
