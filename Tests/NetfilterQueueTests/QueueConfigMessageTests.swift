import CNetfilterQueue
import Testing

@testable import NetfilterQueue

/// The queue configuration messages, byte for byte against libnetfilter_queue's builders.
@Suite struct QueueConfigMessageTests {
    private func reference(
        queue: UInt16,
        sequence: UInt32,
        command: QueueConfigMessage.Command?,
        parameters: QueueConfiguration?,
        acknowledge: Bool = true
    ) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: 512)
        return buffer.withUnsafeMutableBufferPointer { pointer -> [UInt8] in
            let header = nfq_nlmsg_put(pointer.baseAddress, Int32(NFQNL_MSG_CONFIG.rawValue), UInt32(queue))!
            if acknowledge { header.pointee.nlmsg_flags |= UInt16(NLM_F_ACK) }
            header.pointee.nlmsg_seq = sequence
            if let command { nfq_nlmsg_cfg_put_cmd(header, UInt16(AF_UNSPEC), command.rawValue) }
            if let parameters {
                nfq_nlmsg_cfg_put_params(header, UInt8(NFQNL_COPY_PACKET.rawValue), Int32(parameters.copyRange))
                nfq_nlmsg_cfg_put_qmaxlen(header, parameters.maxLength)
                var flags: UInt32 = 0
                if parameters.gso { flags |= UInt32(NFQA_CFG_F_GSO) }
                if parameters.failOpen { flags |= UInt32(NFQA_CFG_F_FAIL_OPEN) }
                let mask = UInt32(NFQA_CFG_F_GSO) | UInt32(NFQA_CFG_F_FAIL_OPEN)
                mnl_attr_put_u32(header, UInt16(NFQA_CFG_FLAGS.rawValue), flags.bigEndian)
                mnl_attr_put_u32(header, UInt16(NFQA_CFG_MASK.rawValue), mask.bigEndian)
            }
            return UnsafeRawBufferPointer(start: pointer.baseAddress, count: Int(header.pointee.nlmsg_len)).map { $0 }
        }
    }

    @Test(arguments: [QueueConfigMessage.Command.bind, .unbind])
    func commandsMatchLibnetfilterQueue(command: QueueConfigMessage.Command) {
        let ours = QueueConfigMessage.encode(queue: 513, sequence: 9, command: command, parameters: nil)
        #expect(ours == reference(queue: 513, sequence: 9, command: command, parameters: nil))
    }

    @Test func parametersMatchLibnetfilterQueue() {
        var configuration = QueueConfiguration(queue: 7)
        configuration.copyRange = 0x1234
        configuration.maxLength = 70000
        for (gso, failOpen) in [(true, false), (false, true), (true, true), (false, false)] {
            configuration.gso = gso
            configuration.failOpen = failOpen
            let ours = QueueConfigMessage.encode(queue: 7, sequence: 3, command: nil, parameters: configuration)
            #expect(ours == reference(queue: 7, sequence: 3, command: nil, parameters: configuration))
        }
    }

    /// An adopted queue's parameters go without NLM_F_ACK (packets wait ahead of any answer).
    @Test func parametersWithoutAcknowledgement() {
        let configuration = QueueConfiguration(queue: 4)
        let ours = QueueConfigMessage.encode(
            queue: 4,
            sequence: 0,
            command: nil,
            parameters: configuration,
            acknowledge: false
        )
        #expect(ours == reference(queue: 4, sequence: 0, command: nil, parameters: configuration, acknowledge: false))
    }
}
