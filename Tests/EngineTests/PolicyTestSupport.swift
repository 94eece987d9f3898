import NetfilterQueue

/// A queued packet of `header` (id 1) for `Policy.judge`.
func packet(_ header: NetworkHeader, ports: TransportPorts = .none, mark: UInt32 = 0) -> QueuedPacket {
    QueuedPacket(id: 1, header: header, mark: mark, ports: ports)
}
