/// The list formats `ListParser` reads.
public enum ListFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// One address or prefix per line (FireHOL `.ipset` / `.netset`, the Tor bulk exit list,
    /// hand-written lists). `#` and `;` start a comment, whole-line or trailing; blank lines,
    /// surrounding whitespace and CRLF line ends are fine.
    case plain
    /// TorDNSEL `exit-addresses`: `ExitNode`, `Published`, `LastStatus` and one or more
    /// `ExitAddress <ip> <date> <time>` lines per node. Only `ExitAddress` lines give entries;
    /// every other keyword (including `@type` and `Downloaded` headers) is ignored.
    case exitAddresses = "exit-addresses"
    /// A Tor network-status consensus, `ns` or microdescriptor flavour. Relays whose `s` line
    /// has `Exit` and not `BadExit` give their `r` line address and their `a` line addresses.
    case consensus
    /// An Onionoo `details` document (JSON). Relays whose `flags` have `Exit` and not `BadExit`
    /// give their `exit_addresses` and `or_addresses`.
    case onionoo
    /// Relay mode: a consensus (either flavour) or an Onionoo `details` document read as the
    /// listening endpoints of every relay, whatever its flags: each address gets the port set
    /// of its relays' ORPorts (`r` and `a` lines, `or_addresses`) and non-zero DirPorts (`r`
    /// line, Onionoo `dir_address`), as its port policy. Never detected: asked for by name.
    case relays

    /// The raw value, also the `--format` argument: `plain`, `exit-addresses`, `consensus`,
    /// `onionoo`, `relays`.
    public var description: String { rawValue }

    /// Guesses the format from the first lines that are neither blank nor `#` comments:
    /// `{` → `.onionoo`; `network-status-version` or `@type network-status…` → `.consensus`;
    /// `@type tordnsel…` or `ExitNode …` → `.exitAddresses`; anything else → `.plain`.
    /// `@type` lines of other kinds and a `Downloaded` line are skipped. Looks at most 16 lines.
    public static func detect(_ bytes: [UInt8]) -> ListFormat {
        bytes.withUnsafeBufferPointer(detect(in:))
    }

    static func detect(in bytes: UnsafeBufferPointer<UInt8>) -> ListFormat {
        var position = ByteSearch.byteOrderMarkLength(bytes)
        var examined = 0
        while position < bytes.count && examined < 16 {
            let lineEnd = ByteSearch.firstIndex(of: ASCII.newline, in: bytes, from: position) ?? bytes.count
            let line = ASCII.trimmed(bytes, position..<lineEnd)
            position = lineEnd + 1
            if line.isEmpty || bytes[line.lowerBound] == ASCII.hash { continue }
            examined += 1
            if bytes[line.lowerBound] == ASCII.leftBrace { return .onionoo }
            if ASCII.hasPrefix(bytes, line, "network-status-version")
                || ASCII.hasPrefix(bytes, line, "@type network-status")
            {
                return .consensus
            }
            if ASCII.hasPrefix(bytes, line, "@type tordnsel") || ASCII.hasPrefix(bytes, line, "ExitNode ") {
                return .exitAddresses
            }
            if ASCII.hasPrefix(bytes, line, "@type ") || ASCII.hasPrefix(bytes, line, "Downloaded ") { continue }
            return .plain
        }
        return .plain
    }
}
