/// How the kernel answered a batch of `SetRequest`s.
public struct SetOutcome: Sendable, Equatable {
    /// Requests it carried out.
    public var done = 0
    /// Adds it refused because the set is full (IPSET_ERR_HASH_FULL; ENFILE for nf_tables).
    public var full = 0
    /// Requests it refused otherwise (no such set, wrong family, EPERM...), with the
    /// first such code (an errno or ipset error number, positive).
    public var failed = 0
    public var firstFailure: Int32?
    /// Each request's answer, in request order: 0 done, else the (positive) errno or
    /// ipset error number; -1 when no answer came.
    public var codes: [Int32] = []

    public init() {}

    /// The outcome of `codes`, those in `fullCodes` counted as full.
    public init(codes: [Int32], fullCodes: Set<Int32>) {
        self.codes = codes
        for code in codes {
            if code == 0 {
                done += 1
            } else if fullCodes.contains(code) {
                full += 1
            } else {
                failed += 1
                if firstFailure == nil { firstFailure = code }
            }
        }
    }
}
