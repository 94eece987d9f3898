/// One element of a kernel set as a listing read it: the address, the seconds it has left,
/// and what its counters counted (zero where the set counts nothing).
public struct SetMember: Sendable, Equatable {
    public var address: SetAddress
    /// Seconds left (0: no timeout).
    public var timeout: UInt64
    public var packets: UInt64
    public var bytes: UInt64

    public init(address: SetAddress, timeout: UInt64 = 0, packets: UInt64 = 0, bytes: UInt64 = 0) {
        self.address = address
        self.timeout = timeout
        self.packets = packets
        self.bytes = bytes
    }
}
