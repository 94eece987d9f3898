internal import CNetfilterQueue

/// The ipset commands that name one set and carry nothing else.
enum IpsetCommand: Sendable {
    case flush
    case destroy

    var number: UInt32 {
        switch self {
        case .flush: UInt32(IPSET_CMD_FLUSH.rawValue)
        case .destroy: UInt32(IPSET_CMD_DESTROY.rawValue)
        }
    }
}
