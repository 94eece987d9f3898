/// The `consensus` format: a Tor network-status consensus, `ns` or microdescriptor flavour.
///
/// A relay's block starts at its `r` line and runs to the next `r` line or to
/// `directory-footer`. The relay counts when its block has an `s` line whose flags include
/// `Exit` and not `BadExit` (and, in the `ns` flavour, its `p` line, if any, accepts some
/// port); it then gives:
/// - the IPv4 address of the `r` line: field 6 in the `ns` flavour
///   (`r nick identity digest date time IP ORPort DirPort`, 9 fields) and field 5 in the
///   microdescriptor flavour (`r nick identity date time IP ORPort DirPort`, 8 fields);
/// - the address of each `a` line (`a [2001:db8::1]:9001` or `a 192.0.2.1:9001`).
///
/// In the `ns` flavour, the relay's `p` line (`p accept 80,443`, an IPv4 exit policy summary,
/// see `PortPolicy`) becomes the port policy of its IPv4 addresses; a relay without one, its
/// IPv6 addresses (the consensus has no IPv6 summary) and every relay of the microdescriptor
/// flavour (whose policies are in the microdescriptors) cover all ports. An address shared by
/// several relays gets the union of their policies. A malformed `p` line of a relay that
/// counts is a rejected line, and the relay's addresses then cover all ports.
///
/// Relay mode (`ListFormat.relays`): every relay counts, whatever its flags; each address
/// gets the ports the relay listens on there as its policy: the `r` line's ORPort and
/// non-zero DirPort for its IPv4 address, the port of each `a` line for that address.
///
/// Every other keyword is ignored (header, `m`, `v`, `pr`, `w`, ...), and so is everything
/// after `directory-footer` (signatures). A malformed `r` or `a` line of a relay that counts is
/// a rejected line; those of relays that do not count are dropped silently, since they would
/// not give an entry anyway. A document without any `r` line is `ListError.malformed`.
enum ConsensusParser {
    /// What is known of the relay being read.
    private struct Relay {
        var addresses: [IPPrefix] = []
        var errors: [ListEntryError] = []
        var isExit = false
        var isBadExit = false
        /// Whether the `r` line is of the `ns` flavour (which carries `p` lines).
        var isNS = false
        /// The IPv4 policy of the `p` line; nil without one (all ports).
        var policy: PortPolicy?
        /// The nickname (first field of the `r` line).
        var nickname = ""
        /// Relay mode: the ports of each address (parallel to `addresses`).
        var ports: [[ClosedRange<UInt16>]] = []

        mutating func reset() {
            addresses.removeAll(keepingCapacity: true)
            errors.removeAll(keepingCapacity: true)
            isExit = false
            isBadExit = false
            isNS = false
            policy = nil
            nickname = ""
            ports.removeAll(keepingCapacity: true)
        }

        /// Relay mode: hands every address with its listening ports (and the errors) to `list`.
        func finishRelay(into list: inout ListAccumulator) {
            for (index, address) in addresses.enumerated() where index < ports.count {
                let policy = list.interner.intern(PortPolicy(accepting: ports[index]))
                list.accept(address, policy: policy, relay: nickname)
            }
            for error in errors { list.reject(line: error.line, error.reason) }
        }

        /// Hands the relay's addresses (and its errors) to `list` if it counts.
        func finish(into list: inout ListAccumulator) {
            guard isExit && !isBadExit else { return }
            // A `p` line rejecting every port: the relay exits nowhere, whatever its flags.
            if isNS, let policy, policy.ranges.isEmpty { return }
            for address in addresses {
                if !isNS {
                    list.accept(address)
                } else if case .v4 = address.address {
                    list.accept(address, policy: policy ?? .all, relay: nickname)
                } else {
                    list.accept(address, policy: .all, relay: nickname)
                }
            }
            for error in errors { list.reject(line: error.line, error.reason) }
        }
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, relays: Bool = false) throws(ListError) -> ParsedList {
        var scanner = LineScanner(bytes)
        var list = ListAccumulator(format: relays ? .relays : .consensus)
        func finish(_ relay: Relay) {
            if relays { relay.finishRelay(into: &list) } else { relay.finish(into: &list) }
        }
        var fields: [Range<Int>] = []
        var relay = Relay()
        var inRelay = false
        var sawRelay = false
        while let line = try scanner.next() {
            let content = ASCII.trimmed(bytes, line)
            guard !content.isEmpty else { continue }
            list.sawContent = true
            ASCII.split(bytes, content, into: &fields, limit: 64)
            let keyword = fields[0]
            if ASCII.equals(bytes, keyword, "r") {
                if inRelay { finish(relay) }
                relay.reset()
                inRelay = true
                sawRelay = true
                readRelayLine(bytes, content, fields, line: scanner.lineNumber, into: &relay)
            } else if !inRelay {
                continue
            } else if ASCII.equals(bytes, keyword, "a") {
                readAddressLine(bytes, content, fields, line: scanner.lineNumber, into: &relay)
            } else if ASCII.equals(bytes, keyword, "s") {
                relay.isExit = false
                relay.isBadExit = false
                for flag in fields.dropFirst() {
                    if ASCII.equals(bytes, flag, "Exit") { relay.isExit = true }
                    if ASCII.equals(bytes, flag, "BadExit") { relay.isBadExit = true }
                }
            } else if ASCII.equals(bytes, keyword, "p") && relay.isNS {
                readPolicyLine(bytes, content, fields, line: scanner.lineNumber, list: &list, into: &relay)
            } else if ASCII.equals(bytes, keyword, "directory-footer") {
                break
            }
        }
        if inRelay { finish(relay) }
        guard sawRelay else {
            throw .malformed(format: .consensus, line: max(scanner.lineNumber, 1), reason: "no relay ('r') line")
        }
        return try list.finish()
    }

    /// An `a address:port` line: one more address of the relay (with its ORPort).
    private static func readAddressLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ content: Range<Int>,
        _ fields: [Range<Int>],
        line: Int,
        into relay: inout Relay
    ) {
        if fields.count == 2, let endpoint = Endpoint.parse(ASCII.slice(bytes, fields[1])) {
            relay.addresses.append(IPPrefix(host: endpoint.address))
            relay.ports.append(endpoint.port == 0 ? [] : [endpoint.port...endpoint.port])
        } else {
            relay.errors.append(
                ListEntryError(
                    line: line,
                    reason: "'a' line is not 'a address:port': \(Excerpt.quoted(bytes, content))"
                )
            )
        }
    }

    /// A `p accept|reject PortList` line (ns flavour): the relay's exit policy summary.
    private static func readPolicyLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ content: Range<Int>,
        _ fields: [Range<Int>],
        line: Int,
        list: inout ListAccumulator,
        into relay: inout Relay
    ) {
        if fields.count == 3,
            let policy = list.interner.policy(
                keyword: ASCII.slice(bytes, fields[1]),
                portList: ASCII.slice(bytes, fields[2])
            )
        {
            relay.policy = policy
        } else {
            relay.policy = nil
            relay.errors.append(
                ListEntryError(
                    line: line,
                    reason: "'p' line is not 'p accept|reject PortList': \(Excerpt.quoted(bytes, content))"
                )
            )
        }
    }

    private static func readRelayLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ content: Range<Int>,
        _ fields: [Range<Int>],
        line: Int,
        into relay: inout Relay
    ) {
        let addressField: Int
        if fields.count > 1 {
            relay.nickname = String(decoding: ASCII.slice(bytes, fields[1]).prefix(32), as: UTF8.self)
        }
        switch fields.count {
        case 9:
            addressField = 6  // ns flavour
            relay.isNS = true
        case 8: addressField = 5  // microdescriptor flavour
        default:
            relay.errors.append(
                ListEntryError(
                    line: line,
                    reason: "'r' line has \(fields.count) fields, not 9 (ns) or 8 (microdesc): "
                        + Excerpt.quoted(bytes, content)
                )
            )
            return
        }
        if let address = IPv4Address.parse(ASCII.slice(bytes, fields[addressField])) {
            relay.addresses.append(IPPrefix(.v4(address), length: 32))
            // ORPort and DirPort follow the address in both flavours (0: none).
            let orPort = Endpoint.port(ASCII.slice(bytes, fields[addressField + 1])) ?? 0
            let dirPort = Endpoint.port(ASCII.slice(bytes, fields[addressField + 2])) ?? 0
            relay.ports.append([orPort...orPort, dirPort...dirPort].filter { $0.lowerBound != 0 })
        } else {
            relay.errors.append(
                ListEntryError(
                    line: line,
                    reason: "'r' line address is not an IPv4 address: \(Excerpt.quoted(bytes, fields[addressField]))"
                )
            )
        }
    }
}
