/// One table (filter, mangle) as `iptables-save -t TABLE` prints it: its chains and rules, in
/// order. Parsing only; no I/O. Counters, comments and other tables are ignored.
public struct SavedTable: Sendable, Equatable {
    /// One `-A CHAIN SPEC` line.
    public struct Rule: Sendable, Equatable {
        /// The chain the rule is in.
        public let chain: String
        /// Everything after `-A CHAIN `, e.g. `-i eth0 -j EXITBLOCK`.
        public let spec: String

        public init(chain: String, spec: String) {
            self.chain = chain
            self.spec = spec
        }

        /// The rule as iptables-save prints it.
        public var line: String { "-A \(chain) \(spec)" }

        /// The chain this rule jumps or goes to (`-j X`, `-g X`), if any. Quoted words (a
        /// comment that says "-j X") are not options.
        public var target: String? {
            let words = SavedTable.words(spec)
            var found: String?
            for (index, word) in words.enumerated() where index + 1 < words.count {
                if !word.quoted
                    && (word.text == "-j" || word.text == "-g" || word.text == "--jump" || word.text == "--goto")
                {
                    found = words[index + 1].text
                }
            }
            return found
        }
    }

    /// Every chain, built-in and user-defined, in the order they are declared.
    public private(set) var chains: [String] = []
    /// Every rule, in the order iptables-save lists them (chain by chain).
    public private(set) var rules: [Rule] = []
    /// Each chain's policy: `ACCEPT` or `DROP` for a built-in chain, `-` for a user-defined one.
    public private(set) var policies: [String: String] = [:]

    /// No rule, no user-defined chain, every built-in chain with policy ACCEPT: the table
    /// changes nothing for any packet (iptables-nft prints this for a table it has created
    /// but holds nothing of anyone's).
    public var holdsNothing: Bool {
        rules.isEmpty && chains.allSatisfy { policies[$0] == "ACCEPT" }
    }

    /// An empty table (no chains: what a host without a filter table shows).
    public init() {}

    /// Reads the `*TABLE` section (`*filter` by default) of iptables-save / ip6tables-save output.
    public init(save text: String, table: String = "filter") {
        var inTable = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.hasPrefix("*") {
                inTable = line == "*" + table
            } else if !inTable || line.hasPrefix("#") {
                continue
            } else if line == "COMMIT" {
                inTable = false
            } else if line.hasPrefix(":") {
                let words = line.dropFirst().split(separator: " ")
                if let name = words.first {
                    chains.append(String(name))
                    if words.count > 1 { policies[String(name)] = String(words[1]) }
                }
            } else if line.hasPrefix("-A ") {
                let rest = line.dropFirst(3)
                guard let space = rest.firstIndex(of: " ") else { continue }
                rules.append(Rule(chain: String(rest[..<space]), spec: String(rest[rest.index(after: space)...])))
            }
        }
    }

    /// The rules of `chain`, in order.
    public func rules(of chain: String) -> [Rule] {
        rules.filter { $0.chain == chain }
    }

    /// The rules, outside `chain` itself, that jump or go to `chain`, in table order.
    public func references(to chain: String) -> [Rule] {
        rules.filter { $0.chain != chain && $0.target == chain }
    }

    /// Splits a rule spec into words the way iptables-restore does: on spaces, with
    /// double-quoted words (backslash escapes inside) kept whole and marked as quoted.
    static func words(_ spec: String) -> [(text: String, quoted: Bool)] {
        var words: [(text: String, quoted: Bool)] = []
        var current = ""
        var quoted = false
        var inQuotes = false
        var escaped = false
        var started = false
        for character in spec {
            if escaped {
                current.append(character)
                escaped = false
            } else if inQuotes {
                if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inQuotes = false
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                inQuotes = true
                quoted = true
                started = true
            } else if character == " " || character == "\t" {
                if started { words.append((current, quoted)) }
                current = ""
                quoted = false
                started = false
            } else {
                current.append(character)
                started = true
            }
        }
        if started { words.append((current, quoted)) }
        return words
    }
}
