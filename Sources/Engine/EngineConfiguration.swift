import NetfilterQueue
import Rules

/// Everything the engine needs, built once (by the CLI) and passed down.
public struct EngineConfiguration: Sendable, Equatable {
    /// Queue numbers to bind, one worker thread each.
    public var queues: [UInt16]
    /// Socket and queue tuning shared by every queue (its `queue` field is ignored).
    public var queueTemplate: QueueConfiguration
    /// The verdict policy.
    public var policy: Policy
    /// CPUs to pin the workers to, in queue order (worker i on `cpus[i % cpus.count]`);
    /// empty leaves placement to the scheduler.
    public var cpus: [Int]
    /// Packet or flow mode; flow mode turns on conntrack invalidation when the set grows.
    public var mode: FilterMode
    /// The address(es) conntrack invalidation looks at (the original direction's source,
    /// destination, or both); the same direction the policy judges packets by.
    public var matchDirection: MatchDirection

    public init(
        queues: [UInt16],
        queueTemplate: QueueConfiguration = QueueConfiguration(queue: 0),
        policy: Policy = Policy(),
        cpus: [Int] = [],
        mode: FilterMode = .packet,
        matchDirection: MatchDirection = .source
    ) {
        self.queues = queues
        self.queueTemplate = queueTemplate
        self.policy = policy
        self.cpus = cpus
        self.mode = mode
        self.matchDirection = matchDirection
    }

    /// The CPU of the worker at `index`, if pinning is configured.
    public func cpu(forWorker index: Int) -> Int? {
        cpus.isEmpty ? nil : cpus[index % cpus.count]
    }

    /// The configuration of queue `number`.
    public func queueConfiguration(_ number: UInt16) -> QueueConfiguration {
        var configuration = queueTemplate
        configuration.queue = number
        return configuration
    }
}
