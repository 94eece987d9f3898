/// The options of an ipset to create (`ipset create NAME TYPE family F timeout T maxelem M counters`).
public struct IpsetSpec: Sendable, Equatable {
    public enum SetType: String, Sendable {
        case hashIP = "hash:ip"
        case hashNet = "hash:net"

        /// The revision `ipset` 7.17 creates (the newest the kernel has had since 5.x).
        var revision: UInt8 { self == .hashIP ? 6 : 7 }
    }

    public var type: SetType
    public var ipv6: Bool
    /// Seconds an entry lives by default; nil: no timeout.
    public var timeout: UInt32?
    public var maxelem: UInt32?
    public var counters: Bool

    public init(type: SetType, ipv6: Bool, timeout: UInt32? = nil, maxelem: UInt32? = nil, counters: Bool = false) {
        self.type = type
        self.ipv6 = ipv6
        self.timeout = timeout
        self.maxelem = maxelem
        self.counters = counters
    }

    /// Whether a set with `header` has these options (its maxelem checked only when one is asked).
    public func matches(_ header: IpsetHeader) -> Bool {
        header.typeName == type.rawValue && header.isIPv6 == ipv6 && header.timeout == timeout
            && header.counters == counters && (maxelem == nil || header.maxelem == maxelem)
    }
}
