/// The `consensus` format: a Tor network-status consensus, `ns` or microdescriptor flavour.
///
/// A relay's block starts at its `r` line and runs to the next `r` line or to
/// `directory-footer`. The relay counts when its block has an `s` line whose flags include
/// `Exit` and not `BadExit`; it then gives:
/// - the IPv4 address of the `r` line: field 6 in the `ns` flavour
///   (`r nick identity digest date time IP ORPort DirPort`, 9 fields) and field 5 in the
///   microdescriptor flavour (`r nick identity date time IP ORPort DirPort`, 8 fields);
/// - the address of each `a` line (`a [2001:db8::1]:9001` or `a 192.0.2.1:9001`).
///
/// Every other keyword is ignored (header, `m`, `v`, `pr`, `w`, `p`, ...), and so is everything
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

        mutating func reset() {
            addresses.removeAll(keepingCapacity: true)
            errors.removeAll(keepingCapacity: true)
            isExit = false
            isBadExit = false
        }

        /// Hands the relay's addresses (and its errors) to `list` if it counts.
        func finish(into list: inout ListAccumulator) {
            guard isExit && !isBadExit else { return }
            for address in addresses { list.accept(address) }
            for error in errors { list.reject(line: error.line, error.reason) }
        }
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ListError) -> ParsedList {
        var scanner = LineScanner(bytes)
        var list = ListAccumulator(format: .consensus)
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
                if inRelay { relay.finish(into: &list) }
                relay.reset()
                inRelay = true
                sawRelay = true
                readRelayLine(bytes, content, fields, line: scanner.lineNumber, into: &relay)
            } else if !inRelay {
                continue
            } else if ASCII.equals(bytes, keyword, "a") {
                if fields.count == 2, let address = Endpoint.address(ASCII.slice(bytes, fields[1])) {
                    relay.addresses.append(IPPrefix(host: address))
                } else {
                    relay.errors.append(
                        ListEntryError(
                            line: scanner.lineNumber,
                            reason: "'a' line is not 'a address:port': \(Excerpt.quoted(bytes, content))"
                        )
                    )
                }
            } else if ASCII.equals(bytes, keyword, "s") {
                relay.isExit = false
                relay.isBadExit = false
                for flag in fields.dropFirst() {
                    if ASCII.equals(bytes, flag, "Exit") { relay.isExit = true }
                    if ASCII.equals(bytes, flag, "BadExit") { relay.isBadExit = true }
                }
            } else if ASCII.equals(bytes, keyword, "directory-footer") {
                break
            }
        }
        if inRelay { relay.finish(into: &list) }
        guard sawRelay else {
            throw .malformed(format: .consensus, line: max(scanner.lineNumber, 1), reason: "no relay ('r') line")
        }
        return try list.finish()
    }

    private static func readRelayLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ content: Range<Int>,
        _ fields: [Range<Int>],
        line: Int,
        into relay: inout Relay
    ) {
        let addressField: Int
        switch fields.count {
        case 9: addressField = 6  // ns flavour
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
