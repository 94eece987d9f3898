/// One line of the restart hand-over, spoken over the hand-over socket (a Unix stream
/// socket) between a starting daemon and the one it replaces:
///
///     new -> old: "exitblock-handover/1 take pid=812 queues=0,1\n"
///     old -> new: "exitblock-handover/1 give pid=790 queues=0,1 stopped-ns=123456789\n"
///                 with one descriptor per queue, in the order named (SCM_RIGHTS)
///
/// `stopped-ns` is CLOCK_MONOTONIC (one clock for every process of the machine) when the old
/// daemon stopped reading, so the new one can say how long the kernel queued alone.
struct HandoverMessage: Sendable, Equatable {
    /// The protocol's name and version, the first word of every line.
    static let magic = "exitblock-handover/1"

    enum Kind: String, Sendable {
        /// The starting daemon asks for the queues.
        case take
        /// The running daemon hands them over (the descriptors come with this line).
        case give
    }

    var kind: Kind
    /// The sender's process id.
    var pid: Int32
    /// take: the queues the sender runs with; give: the queue of each descriptor, in order.
    var queues: [UInt16]
    /// give: when the sender stopped reading (CLOCK_MONOTONIC, ns); 0 in a take.
    var stoppedNanoseconds: UInt64 = 0

    /// The line, newline included.
    var encoded: [UInt8] {
        var line = "\(Self.magic) \(kind.rawValue) pid=\(pid) queues=\(queues.map(String.init).joined(separator: ","))"
        if kind == .give { line += " stopped-ns=\(stoppedNanoseconds)" }
        return Array((line + "\n").utf8)
    }

    /// Reads one line; the error says what did not fit.
    static func parse(_ bytes: [UInt8]) throws(HandoverError) -> HandoverMessage {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasSuffix("\n"), text.utf8.count <= 4096 else {
            throw .malformed("not one line: \(text.debugDescription)")
        }
        let words = text.dropLast().split(separator: " ")
        guard words.first == Substring(magic) else { throw .malformed("not \(magic): \(text.debugDescription)") }
        guard words.count >= 4, let kind = Kind(rawValue: String(words[1])) else {
            throw .malformed("unknown message: \(text.debugDescription)")
        }
        var fields: [Substring: Substring] = [:]
        for word in words.dropFirst(2) {
            let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, fields[parts[0]] == nil else { throw .malformed("bad field \(word)") }
            fields[parts[0]] = parts[1]
        }
        guard let pidText = fields["pid"], let pid = Int32(pidText), pid > 0 else { throw .malformed("no pid") }
        guard let list = fields["queues"] else { throw .malformed("no queues") }
        let queues = try parseQueues(list)
        var message = HandoverMessage(kind: kind, pid: pid, queues: queues)
        if kind == .give {
            guard let stopped = fields["stopped-ns"].flatMap({ UInt64($0) }) else { throw .malformed("no stopped-ns") }
            message.stoppedNanoseconds = stopped
        }
        return message
    }

    /// "0,1,2": distinct queue numbers, at least one.
    private static func parseQueues(_ list: Substring) throws(HandoverError) -> [UInt16] {
        var queues: [UInt16] = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard let number = UInt16(item) else { throw .malformed("bad queue number \(item.debugDescription)") }
            guard !queues.contains(number) else { throw .malformed("queue \(number) named twice") }
            queues.append(number)
        }
        guard !queues.isEmpty, queues.count <= 64 else { throw .malformed("\(queues.count) queues") }
        return queues
    }
}

/// What went wrong in a hand-over; the daemon logs it and binds its queues itself.
enum HandoverError: Error, Equatable, CustomStringConvertible {
    /// A line that is not the protocol's.
    case malformed(String)
    /// A socket operation failed.
    case system(String, Int32)
    /// The peer closed the connection (or timed out) before answering.
    case noAnswer(String)

    var description: String {
        switch self {
        case .malformed(let what): "malformed hand-over message: \(what)"
        case .system(let call, let errno): "\(call): errno \(errno)"
        case .noAnswer(let what): "no answer: \(what)"
        }
    }
}
