/// The `onionoo` format: an Onionoo `details` document.
///
/// ```
/// {"version":"8.0", "relays":[
///   {"nickname":"x", "or_addresses":["192.0.2.1:443","[2001:db8::1]:443"],
///    "exit_addresses":["198.51.100.7"], "flags":["Exit","Fast","Running","Valid"]}
/// ], "bridges":[]}
/// ```
///
/// A relay counts when its `flags` include `Exit` and not `BadExit`, and its
/// `exit_policy_summary` (and `exit_policy_v6_summary` when given) accepts some port; it gives every address of
/// `exit_addresses` (plain addresses) and of `or_addresses` (`address:port`, IPv6 in
/// brackets). An address of a counting relay that does not parse is a rejected line (the line
/// of the string). Other members are checked for syntax and skipped; a member of the wrong
/// type, a syntax error or nesting over 64 levels makes the document `ListError.malformed`.
///
/// Port policies: `exit_policy_summary` (`{"accept":["80","443"]}` or `{"reject":[...]}`)
/// becomes the policy of the relay's IPv4 addresses and `exit_policy_v6_summary` that of its
/// IPv6 addresses. A missing summary, or one that breaks dir-spec's grammar (a rejected line,
/// that of the summary), leaves the addresses of that family at all ports. An address shared
/// by several relays gets the union of their policies.
///
/// Relay mode (`ListFormat.relays`): every relay counts, whatever its flags; each address of
/// `or_addresses` gets its port, and the address of `dir_address` (`"192.0.2.1:80"`) its
/// DirPort, as its policy; `exit_addresses` are left out (no relay listens there).
/// A document without a `relays` array is malformed too.
enum OnionooParser {
    /// The longest string kept for an address or a flag; longer ones cannot be either.
    private static let stringLimit = 128

    private static let closeBrace: UInt8 = 0x7D

    /// A string of an array, with where it was.
    private struct StringToken {
        /// The decoded bytes; nil when over `stringLimit`.
        var bytes: [UInt8]?
        var line: Int
        /// The raw text inside the quotes, for error messages.
        var raw: Range<Int>
    }

    /// An address string of a relay: `address:port` (`or_addresses`) or a bare address.
    private struct AddressText {
        var token: StringToken
        var hasPort: Bool
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, relays: Bool = false) throws(ListError) -> ParsedList {
        var reader = JSONReader(bytes)
        var list = ListAccumulator(format: relays ? .relays : .onionoo)
        var sawRelays = false
        try reader.expect(ASCII.leftBrace, "'{' (an Onionoo document is a JSON object)")
        if !reader.consume(closeBrace) {
            repeat {
                let key = try reader.readString(limit: 32)
                try reader.expect(ASCII.colon, "':' after an object key")
                if let key, ASCII.equals(key, "relays") {
                    sawRelays = true
                    list.sawContent = true
                    try readRelays(&reader, into: &list, relays: relays)
                } else {
                    try reader.skipValue(depth: 2)
                }
            } while try reader.nextItem(close: closeBrace)
        }
        try reader.finish()
        guard sawRelays else {
            throw .malformed(format: .onionoo, line: reader.line, reason: "no \"relays\" array")
        }
        return try list.finish()
    }

    private static func readRelays(
        _ reader: inout JSONReader,
        into list: inout ListAccumulator,
        relays: Bool
    ) throws(ListError) {
        try reader.expect(ASCII.leftBracket, "'[' (\"relays\" is an array)")
        if reader.consume(ASCII.rightBracket) { return }
        repeat {
            try readRelay(&reader, into: &list, relays: relays)
        } while try reader.nextItem(close: ASCII.rightBracket)
    }

    private static func readRelay(
        _ reader: inout JSONReader,
        into list: inout ListAccumulator,
        relays: Bool
    ) throws(ListError) {
        try reader.expect(ASCII.leftBrace, "'{' (a relay is an object)")
        var addresses: [AddressText] = []
        var isExit = false
        var isBadExit = false
        var nickname = ""
        var ipv4Policy: PortPolicy?
        var ipv6Policy: PortPolicy?
        var policyErrors: [ListEntryError] = []
        if !reader.consume(closeBrace) {
            repeat {
                let key = try reader.readString(limit: 32) ?? []
                try reader.expect(ASCII.colon, "':' after an object key")
                if ASCII.equals(key, "dir_address"), reader.peek() == 0x22 {  // a string
                    _ = reader.peek()
                    let start = reader.index + 1
                    let line = reader.line
                    let text = try reader.readString(limit: stringLimit)
                    let token = StringToken(bytes: text, line: line, raw: start..<(reader.index - 1))
                    if relays { addresses.append(AddressText(token: token, hasPort: true)) }
                } else if ASCII.equals(key, "or_addresses") {
                    try readStrings(&reader) { addresses.append(AddressText(token: $0, hasPort: true)) }
                } else if ASCII.equals(key, "exit_addresses") {
                    try readStrings(&reader) { if !relays { addresses.append(AddressText(token: $0, hasPort: false)) } }
                } else if ASCII.equals(key, "flags") {
                    try readStrings(&reader) { token in
                        guard let flag = token.bytes else { return }
                        if ASCII.equals(flag, "Exit") { isExit = true }
                        if ASCII.equals(flag, "BadExit") { isBadExit = true }
                    }
                } else if ASCII.equals(key, "nickname"), reader.peek() == 0x22 {  // a string
                    nickname = String(decoding: try reader.readString(limit: 32) ?? [], as: UTF8.self)
                } else if ASCII.equals(key, "exit_policy_summary") {
                    ipv4Policy = try readPolicy(&reader, into: &list, errors: &policyErrors)
                } else if ASCII.equals(key, "exit_policy_v6_summary") {
                    ipv6Policy = try readPolicy(&reader, into: &list, errors: &policyErrors)
                } else {
                    try reader.skipValue(depth: 4)
                }
            } while try reader.nextItem(close: closeBrace)
        }
        if relays {
            acceptRelay(addresses, nickname: nickname, reader: reader, into: &list)
            return
        }
        guard isExit && !isBadExit else { return }
        // An exit policy that rejects every port, for IPv4 and (given or not) IPv6: not an exit.
        if let ipv4Policy, ipv4Policy.ranges.isEmpty, ipv6Policy?.ranges.isEmpty ?? true { return }
        for error in policyErrors { list.reject(line: error.line, error.reason) }
        acceptExit(addresses, nickname: nickname, policies: (ipv4Policy, ipv6Policy), reader: reader, into: &list)
    }

    /// Exit mode: each exit address of a relay, with the exit policy of its family.
    private static func acceptExit(
        _ addresses: [AddressText],
        nickname: String,
        policies: (ipv4: PortPolicy?, ipv6: PortPolicy?),
        reader: JSONReader,
        into list: inout ListAccumulator
    ) {
        let (ipv4Policy, ipv6Policy) = policies
        for text in addresses {
            let address = text.token.bytes.flatMap { bytes in
                bytes.withUnsafeBufferPointer { text.hasPort ? Endpoint.address($0) : IPAddress.parse($0) }
            }
            if let address {
                let prefix = IPPrefix(host: address)
                if case .v4 = prefix.address {
                    list.accept(prefix, policy: ipv4Policy ?? .all, relay: nickname)
                } else {
                    list.accept(prefix, policy: ipv6Policy ?? .all, relay: nickname)
                }
            } else {
                let kind = text.hasPort ? "an address:port" : "an IP address"
                list.reject(line: text.token.line, "not \(kind): \(Excerpt.quoted(reader.bytes, text.token.raw))")
            }
        }
    }

    /// Relay mode: each `address:port` of a relay, the port as the address's policy.
    private static func acceptRelay(
        _ addresses: [AddressText],
        nickname: String,
        reader: JSONReader,
        into list: inout ListAccumulator
    ) {
        for text in addresses {
            let endpoint = text.token.bytes.flatMap { bytes in bytes.withUnsafeBufferPointer { Endpoint.parse($0) } }
            guard let endpoint else {
                list.reject(
                    line: text.token.line,
                    "not an address:port: \(Excerpt.quoted(reader.bytes, text.token.raw))"
                )
                continue
            }
            let ports: [ClosedRange<UInt16>] = endpoint.port == 0 ? [] : [endpoint.port...endpoint.port]
            let policy = list.interner.intern(PortPolicy(accepting: ports))
            list.accept(IPPrefix(host: endpoint.address), policy: policy, relay: nickname)
        }
    }

    /// Reads a policy summary object (`{"accept":[...]}` or `{"reject":[...]}`, or `null`).
    /// Nil for `null` and for a summary that breaks the grammar (the error goes to `errors`).
    private static func readPolicy(
        _ reader: inout JSONReader,
        into list: inout ListAccumulator,
        errors: inout [ListEntryError]
    ) throws(ListError) -> PortPolicy? {
        if reader.peek() == 0x6E {  // null
            try reader.skipValue(depth: 4)
            return nil
        }
        let line = reader.line
        try reader.expect(ASCII.leftBrace, "'{' (an exit policy summary is an object)")
        var keywords = 0
        var accept = true
        var ranges: [ClosedRange<UInt16>] = []
        var problem: String?
        let document = reader.bytes
        if !reader.consume(closeBrace) {
            repeat {
                let key = try reader.readString(limit: 32) ?? []
                try reader.expect(ASCII.colon, "':' after an object key")
                if ASCII.equals(key, "accept") || ASCII.equals(key, "reject") {
                    keywords += 1
                    accept = ASCII.equals(key, "accept")
                    try readStrings(&reader) { token in
                        let item = token.bytes.flatMap { bytes in
                            bytes.withUnsafeBufferPointer { PortPolicy.parsePortList($0) }
                        }
                        if let item, item.count == 1 {
                            ranges.append(item[0])
                        } else if problem == nil {
                            problem = "not a port or port range: \(Excerpt.quoted(document, token.raw))"
                        }
                    }
                } else {
                    try reader.skipValue(depth: 4)
                }
            } while try reader.nextItem(close: closeBrace)
        }
        if problem == nil && keywords != 1 { problem = "an exit policy summary needs one of \"accept\" or \"reject\"" }
        if let problem {
            errors.append(ListEntryError(line: line, reason: problem))
            return nil
        }
        return list.interner.intern(PortPolicy(listed: ranges, accept: accept))
    }

    /// Reads an array of strings (or `null`, taken as empty), calling `body` for each.
    private static func readStrings(
        _ reader: inout JSONReader,
        _ body: (StringToken) -> Void
    ) throws(ListError) {
        if reader.peek() == 0x6E {  // null
            try reader.skipValue(depth: 4)
            return
        }
        try reader.expect(ASCII.leftBracket, "'[' (an array of strings)")
        if reader.consume(ASCII.rightBracket) { return }
        repeat {
            _ = reader.peek()
            let start = reader.index + 1
            let line = reader.line
            let text = try reader.readString(limit: stringLimit)
            body(StringToken(bytes: text, line: line, raw: start..<(reader.index - 1)))
        } while try reader.nextItem(close: ASCII.rightBracket)
    }
}
