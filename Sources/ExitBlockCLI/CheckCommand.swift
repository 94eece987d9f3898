import ArgumentParser
import Engine
import ExitSet
import LinuxSystem
import ListSources

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Say whether an address would be blocked, and by which entry of which list.",
        discussion: """
            With --allow, an address in the allowlist is not blocked, whatever the lists say; \
            the answer names the allowlist entry and where it came from. Exit status: 0 blocked, \
            1 not blocked (allowlisted included), 2 error (bad address, unusable list).

            ADDRESS:PORT (IPv6 as [ADDRESS]:PORT) asks about a packet from ADDRESS to PORT             (--protocol tcp or udp): the answer names the relays of consensus and Onionoo lists             that gave the address, the port policy each published and their union, and whether             the policy covers the port. With --exit-policy (as on run) a port outside the policy             is not blocked; without it the address alone decides and the answer says what             --exit-policy would change.

            --socket PATH asks the running daemon (its stats socket): the answer comes from the             set it judges with, and names the matching entry, the sources that listed it with             their last good version's age, the allowlist entry, and the decision of its policy             (match, --exit-policy) for ADDRESS or ADDRESS:PORT. --config FILE judges with the             lists, allowlist and policy of FILE's [run] table: URL lists from the disk cache in             its state-directory when there is one (what the daemon starts from), else fetched.
            """
    )

    @Argument(help: "An IPv4 or IPv6 address (IPv6 may be bracketed), optionally with :PORT.")
    var address: String

    @Option(help: "The transport of ADDRESS:PORT: tcp or udp (exit policies name the same ports for both).")
    var `protocol`: TransportProtocolArgument = .tcp

    @Flag(help: "Judge ADDRESS:PORT by the exit's port policy, as `run --exit-policy` does.")
    var exitPolicy = false

    @Option(
        name: .customLong("list"),
        help: ArgumentHelp("A list file; repeatable.", valueName: "path")
    )
    var lists: [String] = []

    @Option(help: ArgumentHelp("Ask the running daemon at this stats socket.", valueName: "path"))
    var socket: String?

    @Option(
        help: ArgumentHelp("Judge with the lists, allowlist and policy of this configuration file.", valueName: "path")
    )
    var config: String?

    @Option(
        name: .customLong("allow"),
        help: ArgumentHelp(
            "An allowlisted address or prefix, or an allowlist file (any format); repeatable.",
            valueName: "address|path"
        )
    )
    var allows: [String] = []

    @Option(help: "List format; detected from the content when not given.")
    var format: ListFormat?

    func validate() throws {
        let ways = [!lists.isEmpty, socket != nil, config != nil].filter { $0 }.count
        guard ways == 1 else { throw ValidationError("give --list (one or more), --socket or --config") }
    }

    func run() throws {
        guard let (parsed, port) = Self.parseEndpoint(address) else {
            Output.error("'\(address)' is not an IPv4 or IPv6 address, or ADDRESS:PORT ([IPv6]:PORT)")
            throw ExitCode(Status.failure)
        }
        if let socket {
            return try CheckSocketCommand(socket: socket, address: "\(parsed)", port: port, transport: self.protocol)
                .run()
        }
        if let config {
            return try CheckConfigCommand(config: config, address: parsed, port: port, transport: self.protocol).run()
        }
        let loaded: (set: ExitSet, lists: [LoadedList])
        do {
            loaded = try ListLoader.loadSet(lists, format: format)
        } catch {
            Output.error("\(error)")
            throw ExitCode(Status.failure)
        }
        let allowlist: Allowlist
        do {
            allowlist = try Allowlist.load(allows)
        } catch {
            Output.error("allowlist: \(error)")
            throw ExitCode(Status.failure)
        }
        let listed = loaded.set.match(parsed)
        if let allowed = allowlist.match(parsed) {
            let values = allowed.values.joined(separator: ", ")
            var line = "not blocked: \(parsed) is allowlisted by \(allowed.entry) (--allow \(values))"
            if let listed {
                line += "; the allowlist wins over \(listed) (\(sources(of: listed, in: loaded.lists)))"
            }
            Output.line(line)
            throw ExitCode(Status.notBlocked)
        }
        guard let entry = listed else {
            Output.line("not blocked: \(parsed) is in no list (\(loaded.set.count) entries)")
            throw ExitCode(Status.notBlocked)
        }
        guard let port else {
            Output.line("blocked: \(parsed) matches \(entry) (\(sources(of: entry, in: loaded.lists)))")
            return
        }
        try explainPort(parsed, port, entry: entry, loaded)
    }

    /// The answer for ADDRESS:PORT of a listed address: the relays and policies behind it,
    /// and the decision with and without --exit-policy.
    private func explainPort(
        _ address: IPAddress,
        _ port: UInt16,
        entry: IPPrefix,
        _ loaded: (set: ExitSet, lists: [LoadedList])
    ) throws {
        let target = "port \(port)/\(self.protocol.rawValue)"
        let relayMode = format == .relays
        // Relay mode: only TCP to a relay's own ports counts (port 0 is in no relay's set).
        let judgedPort: UInt16 = relayMode && self.protocol == .udp ? 0 : port
        let match = loaded.set.match(address, port: judgedPort)
        let judging = exitPolicy || relayMode
        let covers = relayMode ? "its relay ports (ORPort, DirPort) include" : "its exit policy covers"
        let leavesOut = relayMode ? "its relay ports (ORPort, DirPort) leave out" : "its exit policy leaves out"

        var lines: [String] = []
        for list in loaded.lists where list.list.entries.contains(entry) {
            let relays = list.list.relays[entry] ?? []
            if relays.isEmpty {
                let policy = list.list.policies[entry] ?? .all
                lines.append("  \(list.path): \(entry), policy \(policy.summary)\(Self.covers(policy, port))")
            }
            for relay in relays {
                lines.append(
                    "  \(list.path): relay \(relay.nickname.isEmpty ? "(no nickname)" : relay.nickname), "
                        + "policy \(relay.policy.summary)\(Self.covers(relay.policy, port))"
                )
            }
        }
        if entry.length == 32 || entry.length == 128, let union = loaded.set.policy(of: address) {
            lines.append("  policy of \(address) (union): \(union.summary)\(Self.covers(union, port))")
        } else {
            lines.append("  \(entry) is a prefix: prefixes cover every port")
        }
        let verdict: String
        var blocked = true
        switch (match, judging) {
        case (.outsidePolicy, true):
            verdict = "not blocked: \(address) is listed, but \(leavesOut) \(target)"
            blocked = false
        case (.outsidePolicy, false):
            verdict =
                "blocked: \(address) matches \(entry); \(leavesOut) \(target), "
                + "so with --exit-policy it would not be blocked"
        default:
            verdict = "blocked: \(address) matches \(entry) and \(covers) \(target)"
        }
        Output.line(verdict)
        for line in lines { Output.line(line) }
        if !blocked { throw ExitCode(Status.notBlocked) }
    }

    private static func covers(_ policy: PortPolicy, _ port: UInt16) -> String {
        policy.accepts(port) ? " (covers \(port))" : " (leaves out \(port))"
    }

    /// `ADDRESS`, `ADDRESS:PORT` (IPv4), `[IPv6]`, `[IPv6]:PORT` or a bare IPv6 address.
    static func parseEndpoint(_ text: String) -> (IPAddress, UInt16?)? {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let inner = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard let address = IPAddress(String(inner)) else { return nil }
            if rest.isEmpty { return (address, nil) }
            guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()) else { return nil }
            return (address, port)
        }
        if let address = IPAddress(text) { return (address, nil) }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])), case .v4 = address,
            let port = UInt16(parts[1])
        else { return nil }
        return (address, port)
    }

    /// The lists holding `entry`, comma separated.
    private func sources(of entry: IPPrefix, in lists: [LoadedList]) -> String {
        lists.filter { $0.list.entries.contains(entry) }.map(\.path).joined(separator: ", ")
    }
}
