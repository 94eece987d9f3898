/// One address to add to (or delete from) one kernel set.
public struct SetRequest: Sendable, Hashable {
    public var set: String
    public var address: SetAddress
    /// Seconds the entry lives (adds only; 0: the set's default); an existing entry gets it anew.
    public var timeout: UInt32

    public init(set: String, address: SetAddress, timeout: UInt32 = 0) {
        self.set = set
        self.address = address
        self.timeout = timeout
    }
}
