import Netlink

#if canImport(Glibc)
    import Glibc
#endif

extension NetfilterQueue {
    /// Takes over a queue another process bound: `descriptor` is that process's netlink
    /// socket (handed over with SCM_RIGHTS, or kept in the service manager's descriptor
    /// store), so the kernel's binding and every packet waiting on it stay. Nothing is bound
    /// again; the socket options and the queue's parameters (copy range, max length, flags)
    /// are set anew from `configuration`, without waiting for the kernel's answer: thousands
    /// of packets may wait in the socket ahead of it. A refusal (EPERM: another socket owns
    /// the queue; ENODEV: nobody does) then arrives among the packets and is counted as a
    /// verdict error; check the owner beforehand (`portID` against the kernel's queue
    /// table). On a failure the descriptor is closed and the queue left as it was.
    public convenience init(adopting descriptor: Int32, configuration: QueueConfiguration) throws(NetfilterQueueError) {
        let socket: NetlinkSocket
        do {
            socket = try NetlinkSocket(adopting: descriptor)
        } catch {
            Glibc.close(descriptor)
            throw NetfilterQueueError(error)
        }
        try self.init(configuration: configuration, verdictTransport: { $0 }, adopting: socket)
    }
}
