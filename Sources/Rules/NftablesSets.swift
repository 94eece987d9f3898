import LinuxSystem
import ExitSet
import Foundation

/// The verdict caches' sets of the `rules show --nft` ruleset (`drop4`/`drop6`, `allow4`/
/// `allow6`, `accept4`/`accept6` in `table inet exitblock`), driven through the `nft` program
/// off the hot path: at start (are they there, does a rule use them), at each publish (list
/// them with their counters, mirror the allowlist) and when figures are read. Adds and
/// deletes of single elements go through netlink (`NftSetClient`), not through here: `nft`
/// runs a whole command as one transaction, and one element that expired meanwhile would
/// abort the deletion of all the others.
public struct NftablesSets: Sendable {
    let path: String
    let runner: any CommandRunning
    /// The `inet` table holding the sets.
    public let table: String

    public init(path: String, table: String = RuleSet.nftablesTable, runner: any CommandRunning = ProcessRunner()) {
        self.path = path
        self.table = table
        self.runner = runner
    }

    /// Finds `nft` on PATH.
    public static func locate(
        searchPath: [String] = IptablesTools.searchPath(),
        runner: any CommandRunning = ProcessRunner()
    ) throws(RulesError) -> NftablesSets {
        NftablesSets(path: try ProgramFinder(directories: searchPath).find("nft"), runner: runner)
    }

    /// `family`'s set of the drop cache (`drop4`), its allowlist mirror (`allow4`) or the accept cache (`accept4`).
    public static func dropSet(_ family: RuleSettings.Family) -> String { "drop" + suffix(family) }
    public static func allowSet(_ family: RuleSettings.Family) -> String { "allow" + suffix(family) }
    public static func acceptSet(_ family: RuleSettings.Family) -> String { "accept" + suffix(family) }

    private static func suffix(_ family: RuleSettings.Family) -> String { family == .ipv4 ? "4" : "6" }

    /// What `nft -j list set` says of one set.
    public struct Listing: Sendable, Equatable {
        /// The set's default timeout in seconds (nil: none).
        public var timeout: UInt32?
        /// The set's size (nil: unbounded).
        public var size: UInt32?
        public var members: [DropCacheSets.Member]
    }

    /// The text of `nft list table inet TABLE` (nil when there is no such table): the rules
    /// that use a set name it as `@NAME`.
    public func tableText() throws(RulesError) -> String? {
        let result = try runner.runTool(path, ["list", "table", "inet", table], input: nil)
        return result.status == 0 ? result.output : nil
    }

    /// Whether a rule of `tableText` names set `name` (`@name` followed by a space or the line's end).
    public static func rules(in tableText: String, use name: String) -> Bool {
        tableText.split(separator: "\n").contains { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return words.contains { $0 == "@" + name }
        }
    }

    /// The set `name` with its elements (nil when there is no such set).
    public func list(_ name: String) throws(RulesError) -> Listing? {
        let result = try runner.runTool(path, ["-j", "list", "set", "inet", table, name], input: nil)
        guard result.status == 0 else { return nil }
        return NftablesSets.parseListing(result.output)
    }

    /// The members of set `name` (empty when it does not exist).
    public func members(_ name: String) throws(RulesError) -> [DropCacheSets.Member] {
        try list(name)?.members ?? []
    }

    /// Parses `nft -j list set`: `{"nftables": [{"metainfo": …}, {"set": {"timeout": 60,
    /// "size": N, "elem": [{"elem": {"val": "192.0.2.1", "expires": 57, "counter": {"packets":
    /// P, "bytes": B}}}, …]}}]}` (an element without timeout or counter is a bare string).
    /// Nil when it is not such a document.
    static func parseListing(_ text: String) -> Listing? {
        guard let document = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let items = document["nftables"] as? [[String: Any]],
            let set = items.lazy.compactMap({ $0["set"] as? [String: Any] }).first
        else { return nil }
        func number(_ value: Any?) -> UInt64? {
            switch value {
            case let value as Int: value >= 0 ? UInt64(value) : nil
            case let value as NSNumber: value.uint64Value
            default: nil
            }
        }
        var listing = Listing(
            timeout: number(set["timeout"]).map { UInt32(clamping: $0) },
            size: number(set["size"]).map { UInt32(clamping: $0) },
            members: []
        )
        for item in set["elem"] as? [Any] ?? [] {
            let element = (item as? [String: Any])?["elem"] as? [String: Any]
            guard let value = (element?["val"] ?? item) as? String, let address = IPAddress(value) else { continue }
            let counter = element?["counter"] as? [String: Any]
            listing.members.append(
                DropCacheSets.Member(
                    address: address,
                    timeout: number(element?["expires"]) ?? 0,
                    packets: number(counter?["packets"]) ?? 0,
                    bytes: number(counter?["bytes"]) ?? 0
                )
            )
        }
        return listing
    }

    /// Empties set `name`.
    public func flush(_ name: String) throws(RulesError) {
        try apply(["flush set inet \(table) \(name)"])
    }

    /// Replaces the elements of interval set `name` by `prefixes` in one transaction (the
    /// kernel never sees it half filled). Prefixes inside another are left out: an interval
    /// set refuses overlapping elements.
    public func replace(_ name: String, with prefixes: [IPPrefix]) throws(RulesError) {
        var lines = ["flush set inet \(table) \(name)"]
        let kept = NftablesSets.outermost(prefixes)
        if !kept.isEmpty {
            let elements = kept.map { "\($0.address)/\($0.length)" }.joined(separator: ", ")
            lines.append("add element inet \(table) \(name) { \(elements) }")
        }
        try apply(lines)
    }

    /// The prefixes of `prefixes` that no other one covers, sorted.
    static func outermost(_ prefixes: [IPPrefix]) -> [IPPrefix] {
        var kept: [IPPrefix] = []
        // Sorted by address, shorter first at the same address: a prefix covered by another
        // comes after it, and everything between them is covered too.
        for prefix in Set(prefixes).sorted() {
            if let last = kept.last, last.contains(prefix.address), last.length <= prefix.length { continue }
            kept.append(prefix)
        }
        return kept
    }

    /// Feeds `lines` to `nft -f -` (one transaction).
    func apply(_ lines: [String]) throws(RulesError) {
        let result = try runner.runTool(path, ["-f", "-"], input: lines.joined(separator: "\n") + "\n")
        guard result.status == 0 else {
            throw .commandFailed(
                command: "\(path) -f -",
                status: result.status,
                message: result.errorOutput,
                failedRule: nil
            )
        }
    }
}
