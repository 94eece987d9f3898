// A real-kernel check of VerdictSender, built by scripts/verdict-fault-test.sh with swiftc
// over the NetfilterQueue sources: binds NFQUEUE QUEUE in the current network namespace,
// drops packets whose source is in LISTED (comma-separated addresses) and accepts the rest,
// while its verdict sends fail on purpose: every third burst's batch message fails (so the
// packets are answered one by one), the next burst's sends all fail (so its verdicts are
// kept for a later send), the third sends normally. Runs until STOP_FILE exists, then
// prints its figures as key=value.
import Glibc

/// Makes chosen sends fail before they reach the socket.
final class FaultyTransport: VerdictTransport {
    enum Plan {
        case none
        case batchFails
        case everythingFails
    }

    let socket: any VerdictTransport
    var plan = Plan.none
    var injected = 0

    init(_ socket: any VerdictTransport) { self.socket = socket }

    func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        // nlmsg_type at offset 4: (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH
        let isBatch = bytes.count >= 6 && bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self) == 3 << 8 | 3
        guard plan == .everythingFails || (plan == .batchFails && isBatch) else { return socket.sendDatagram(bytes) }
        injected += 1
        return .failure(.noBufferSpace)
    }

    func pauseBeforeRetry(attempt: Int) {}
}

func environment(_ name: String) -> String {
    getenv(name).map { String(cString: $0) } ?? ""
}

/// The listed sources, as the header reader gives them (host-order words).
var listed4: Set<UInt32> = []
var listed6: Set<IPv6Words> = []
for text in environment("LISTED").split(separator: ",").map(String.init) {
    var v4 = in_addr()
    var v6 = in6_addr()
    if inet_pton(AF_INET, text, &v4) == 1 {
        listed4.insert(UInt32(bigEndian: v4.s_addr))
    } else if inet_pton(AF_INET6, text, &v6) == 1 {
        let words = withUnsafeBytes(of: &v6) {
            IPv6Words(
                high: UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)),
                low: UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            )
        }
        listed6.insert(words)
    } else {
        fatalError("LISTED: not an address: \(text)")
    }
}

let stopFile = environment("STOP_FILE")
var configuration = QueueConfiguration(queue: UInt16(environment("QUEUE")) ?? 0)
var faulty: FaultyTransport?
let queue: NetfilterQueue
do {
    queue = try NetfilterQueue(configuration: configuration) { socket in
        let transport = FaultyTransport(socket)
        faulty = transport
        return transport
    }
} catch {
    print("error=\(error)")
    exit(1)
}
let burst = PacketBurst(configuration: configuration)
let batch = VerdictBatch(queue: configuration.queue, capacity: configuration.burstSize)
print("bound queue=\(configuration.queue)")
fflush(stdout)

var packets = 0
var dropped = 0
var bursts = 0
var failedSends = 0
while access(stopFile, F_OK) != 0 {
    let count: Int
    do {
        count = try queue.receive(into: burst)
    } catch {
        print("receive_error=\(error)")
        continue
    }
    if count == 0 {
        // A timeout: kept verdicts go out now, as the worker does.
        faulty?.plan = .none
        if batch.count > 0, (try? queue.send(batch)) == nil { failedSends += 1 }
        continue
    }
    for index in 0..<count {
        let packet = burst[index]
        var isListed = false
        switch packet.header {
        case .ipv4(let source, _): isListed = listed4.contains(source)
        case .ipv6(let source, _): isListed = listed6.contains(source)
        case .unparsable: break
        }
        packets += 1
        if isListed { dropped += 1 }
        batch.append(id: packet.id, verdict: isListed ? .drop : .accept)
    }
    faulty?.plan = [.batchFails, .everythingFails, .none][bursts % 3]
    bursts += 1
    if (try? queue.send(batch)) == nil { failedSends += 1 }
}
faulty?.plan = .none
if batch.count > 0 { _ = try? queue.send(batch) }
let figures = queue.statistics
print(
    "packets=\(packets) dropped=\(dropped) bursts=\(bursts) injected=\(faulty?.injected ?? 0)",
    "send_errors=\(figures.sendErrors) resends=\(figures.verdictResends) single=\(figures.singleVerdicts)",
    "deferred=\(figures.deferredVerdicts) verdict_errors=\(figures.verdictErrors) failed_sends=\(failedSends)",
    "unsent=\(batch.count)"
)
queue.close()
