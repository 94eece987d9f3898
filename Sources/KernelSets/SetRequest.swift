/// One address to add to (or delete from) one kernel set.
public struct SetRequest: Sendable, Hashable {
    public var set: String
    public var address: SetAddress
    /// Seconds the entry lives (adds only; 0: the set's default); an existing entry gets it anew.
    public var timeout: UInt32
    /// Adds to an ipset with counters: start the entry's counters at 0. The kernel keeps an
    /// expired entry it has not yet freed, and an add without counters revives it with the
    /// counts it had, which a reader that saw it gone would count twice.
    public var resetsCounters: Bool

    public init(set: String, address: SetAddress, timeout: UInt32 = 0, resetsCounters: Bool = false) {
        self.set = set
        self.address = address
        self.timeout = timeout
        self.resetsCounters = resetsCounters
    }
}
