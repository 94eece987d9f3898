import LinuxSystem
import ExitSet

/// The drop cache's kernel sets, driven through the `ipset` program (one process per call,
/// off the hot path: at install, at each publish, when figures are read). The program
/// rather than libipset on purpose: the rest of the rules go through iptables-restore the
/// same way, and its text formats are stable and testable with a fake runner.
public struct DropCacheSets: Sendable {
    /// One entry of a set, as `ipset list -o save` prints it.
    public struct Member: Sendable, Equatable {
        public var address: IPAddress
        /// Seconds left.
        public var timeout: UInt64
        /// Packets the set counted: every packet the cache rules matched (the daemon adds the
        /// entry through netlink, which counts none).
        public var packets: UInt64
        public var bytes: UInt64

        package init(address: IPAddress, timeout: UInt64, packets: UInt64, bytes: UInt64) {
            self.address = address
            self.timeout = timeout
            self.packets = packets
            self.bytes = bytes
        }

        /// The packets the kernel dropped (or accepted) from the cache: every packet the set
        /// counted, as the daemon adds entries through netlink (no packet counted at the add).
        public var kernelHits: UInt64 { packets }
    }

    let path: String
    let runner: any CommandRunning

    public init(path: String, runner: any CommandRunning = ProcessRunner()) {
        self.path = path
        self.runner = runner
    }

    /// Finds `ipset` on PATH.
    public static func locate(
        searchPath: [String] = IptablesTools.searchPath(),
        runner: any CommandRunning = ProcessRunner()
    ) throws(RulesError) -> DropCacheSets {
        DropCacheSets(path: try ProgramFinder(directories: searchPath).find("ipset"), runner: runner)
    }

    /// `ipset list -t NAME`'s header line ("family inet hashsize … timeout 60 counters …"); nil
    /// when there is no such set (or the answer has no header line).
    public func header(_ name: String) throws(RulesError) -> String? {
        let result = try runner.runTool(path, ["list", "-t", name], input: nil)
        guard result.status == 0 else { return nil }
        for line in result.output.split(separator: "\n") where line.hasPrefix("Header: ") {
            return String(line.dropFirst("Header: ".count))
        }
        return nil
    }

    /// The number of rules naming set `name` (`References:` of `ipset list -t`); nil when
    /// there is no such set.
    public func references(_ name: String) throws(RulesError) -> Int? {
        let result = try runner.runTool(path, ["list", "-t", name], input: nil)
        guard result.status == 0 else { return nil }
        for line in result.output.split(separator: "\n") where line.hasPrefix("References: ") {
            return Int(line.dropFirst("References: ".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// The number of entries of set `name` (`Number of entries:` of `ipset list -t`: no
    /// member is printed, so it costs the same for any size); nil when there is no such set.
    public func entryCount(_ name: String) throws(RulesError) -> Int? {
        let result = try runner.runTool(path, ["list", "-t", name], input: nil)
        guard result.status == 0 else { return nil }
        for line in result.output.split(separator: "\n") where line.hasPrefix("Number of entries: ") {
            return Int(line.dropFirst("Number of entries: ".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Makes the set of `createLine` (`create NAME hash:ip family F timeout T counters`)
    /// exist with exactly those options. An existing set with other options is replaced by
    /// a swap with a new one (rules referencing it keep working; its entries are dropped).
    /// Returns false when the set was already right.
    @discardableResult
    public func ensure(_ createLine: String) throws(RulesError) -> Bool {
        let words = createLine.split(separator: " ").map(String.init)
        let name = words[1]
        if let header = try header(name) {
            let wanted = words.dropFirst(3).joined(separator: " ")  // "family inet timeout 60 counters"
            if DropCacheSets.header(header, matches: wanted) { return false }
            let temporary = name + "-new"
            let temporaryLine = (["create", temporary] + words.dropFirst(2)).joined(separator: " ")
            let leftover = try self.header(temporary) != nil ? ["destroy \(temporary)"] : []
            try restore(leftover + [temporaryLine, "swap \(temporary) \(name)", "destroy \(temporary)"])
            return true
        }
        try restore([createLine])
        return true
    }

    /// The `timeout N` of an `ipset list -t` header.
    package static func timeout(inHeader header: String) -> UInt32? { value("timeout", inHeader: header) }

    /// The `maxelem N` of an `ipset list -t` header.
    package static func maxelem(inHeader header: String) -> UInt32? { value("maxelem", inHeader: header) }

    private static func value(_ key: String, inHeader header: String) -> UInt32? {
        let words = header.split(separator: " ")
        guard let at = words.firstIndex(of: Substring(key)), at + 1 < words.count else { return nil }
        return UInt32(words[at + 1])
    }

    /// Whether an `ipset list -t` header has every option of `wanted` (pairs and flags).
    static func header(_ header: String, matches wanted: String) -> Bool {
        let have = header.split(separator: " ").map(String.init)
        let want = wanted.split(separator: " ").map(String.init)
        var index = 0
        while index < want.count {
            let word = want[index]
            if word == "counters" {
                guard have.contains("counters") else { return false }
                index += 1
                continue
            }
            guard index + 1 < want.count, let at = have.firstIndex(of: word), at + 1 < have.count,
                have[at + 1] == want[index + 1]
            else { return false }
            index += 2
        }
        return true
    }

    /// Destroys the set `name` if it exists; false when it did not.
    @discardableResult
    public func destroy(_ name: String) throws(RulesError) -> Bool {
        guard try header(name) != nil else { return false }
        try restore(["destroy \(name)"])
        return true
    }

    /// The members of set `name` (empty when it does not exist).
    public func members(_ name: String) throws(RulesError) -> [Member] {
        let result = try runner.runTool(path, ["list", "-o", "save", name], input: nil)
        guard result.status == 0 else { return [] }
        return DropCacheSets.parseMembers(result.output)
    }

    /// Parses `add NAME ADDRESS timeout T packets P bytes B` lines.
    static func parseMembers(_ text: String) -> [Member] {
        var members: [Member] = []
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 3, words[0] == "add", let address = IPAddress(words[2]) else { continue }
            var member = Member(address: address, timeout: 0, packets: 0, bytes: 0)
            var index = 3
            while index + 1 < words.count {
                let value = UInt64(words[index + 1]) ?? 0
                switch words[index] {
                case "timeout": member.timeout = value
                case "packets": member.packets = value
                case "bytes": member.bytes = value
                default: break
                }
                index += 2
            }
            members.append(member)
        }
        return members
    }

    /// Deletes `addresses` from set `name` in one `ipset restore -exist` (entries that expired
    /// meanwhile are no error).
    public func delete(_ addresses: [IPAddress], from name: String) throws(RulesError) {
        guard !addresses.isEmpty else { return }
        try restore(addresses.map { "del \(name) \($0)" }, exist: true)
    }

    /// Feeds `lines` to `ipset restore`.
    package func restore(_ lines: [String], exist: Bool = false) throws(RulesError) {
        let arguments = exist ? ["restore", "-exist"] : ["restore"]
        let result = try runner.runTool(path, arguments, input: lines.joined(separator: "\n") + "\n")
        guard result.status == 0 else {
            throw .commandFailed(
                command: ([path] + arguments).joined(separator: " "),
                status: result.status,
                message: result.errorOutput,
                failedRule: nil
            )
        }
    }
}
