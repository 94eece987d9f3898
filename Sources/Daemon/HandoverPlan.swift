/// What a starting daemon does with the queue sockets it was given (by the daemon it
/// replaces, or by the service manager's descriptor store): adopt those of queues it runs
/// with, close the others (the kernel unbinds them once no process holds them), and bind the
/// queues nobody gave it. Pure: the tests check every case without a socket.
struct HandoverPlan: Sendable, Equatable {
    /// Queue number -> descriptor to adopt.
    var adopt: [UInt16: Int32] = [:]
    /// Descriptors to close unused.
    var close: [Int32] = []
    /// Queues to bind as at a first start.
    var bind: [UInt16] = []
    /// What did not match, one line each, for the log.
    var notes: [String] = []

    /// The plan for `descriptors` said to be queues `offered` (same order), for a daemon that
    /// runs queues `wanted`.
    static func make(offered: [UInt16], descriptors: [Int32], wanted: [UInt16]) -> HandoverPlan {
        var plan = HandoverPlan()
        guard offered.count == descriptors.count, Set(offered).count == offered.count else {
            plan.close = descriptors
            plan.bind = wanted
            plan.notes.append(
                "\(descriptors.count) descriptors for \(offered.count) queue numbers \(offered): none adopted"
            )
            return plan
        }
        for (queue, descriptor) in zip(offered, descriptors) {
            if wanted.contains(queue) {
                plan.adopt[queue] = descriptor
            } else {
                plan.close.append(descriptor)
                plan.notes.append(
                    "queue \(queue) was handed over but is not configured: closed (the kernel unbinds it)"
                )
            }
        }
        plan.bind = wanted.filter { plan.adopt[$0] == nil }
        if !plan.bind.isEmpty, !plan.adopt.isEmpty {
            plan.notes.append("queue(s) \(plan.bind) were not handed over: bound anew")
        }
        return plan
    }
}
