internal import CNetfilterQueue
import Netlink

/// NFQNL_MSG_CONFIG messages (bind, unbind, copy mode and range, queue length, flags), built
/// with the Netlink codec; the bytes are those of libnetfilter_queue's nfq_nlmsg_put +
/// nfq_nlmsg_cfg_put_* builders (a test compares them).
enum QueueConfigMessage {
    enum Command: UInt8 {
        case bind = 1  // NFQNL_CFG_CMD_BIND
        case unbind = 2  // NFQNL_CFG_CMD_UNBIND
    }

    /// One message for `queue`, with NLM_F_ACK unless `acknowledge` is false (then the kernel
    /// answers only a failure). `command` is nil for a parameters-only message.
    static func encode(
        queue: UInt16,
        sequence: UInt32,
        command: Command?,
        parameters: QueueConfiguration?,
        acknowledge: Bool = true
    ) -> [UInt8] {
        var writer = NetlinkWriter(capacity: 64)
        let start = writer.beginMessage(
            type: UInt16(NFNL_SUBSYS_QUEUE << 8) | UInt16(NFQNL_MSG_CONFIG.rawValue),
            flags: Netlink.Flags.request | (acknowledge ? Netlink.Flags.acknowledge : 0),
            sequence: sequence
        )
        writer.putNetfilterHeader(family: UInt8(AF_UNSPEC), resourceID: queue)
        if let command {
            // struct nfqnl_msg_config_cmd { __u8 command; __u8 _pad; __be16 pf; }. The protocol
            // family is ignored for BIND/UNBIND since Linux 3.8: one queue carries IPv4 and IPv6.
            withUnsafeBytes(of: (command.rawValue, UInt8(0), UInt16(AF_UNSPEC).bigEndian)) {
                writer.putAttribute(type: UInt16(NFQA_CFG_CMD.rawValue), payload: $0)
            }
        }
        if let parameters {
            // struct nfqnl_msg_config_params { __be32 copy_range; __u8 copy_mode; } (packed, 5 bytes)
            var packed: [UInt8] = withUnsafeBytes(of: UInt32(parameters.copyRange).bigEndian) { Array($0) }
            packed.append(UInt8(NFQNL_COPY_PACKET.rawValue))
            packed.withUnsafeBytes { writer.putAttribute(type: UInt16(NFQA_CFG_PARAMS.rawValue), payload: $0) }
            writer.putAttribute(type: UInt16(NFQA_CFG_QUEUE_MAXLEN.rawValue), bigEndian: parameters.maxLength)
            var flags: UInt32 = 0
            if parameters.gso { flags |= UInt32(NFQA_CFG_F_GSO) }
            if parameters.failOpen { flags |= UInt32(NFQA_CFG_F_FAIL_OPEN) }
            let mask = UInt32(NFQA_CFG_F_GSO) | UInt32(NFQA_CFG_F_FAIL_OPEN)
            writer.putAttribute(type: UInt16(NFQA_CFG_FLAGS.rawValue), bigEndian: flags)
            writer.putAttribute(type: UInt16(NFQA_CFG_MASK.rawValue), bigEndian: mask)
        }
        writer.endMessage(start)
        return writer.bytes
    }
}
