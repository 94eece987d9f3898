import LinuxSystem
import Foundation

/// The save and restore programs of one iptables backend, for both families, found on disk.
public struct IptablesTools: Sendable, Equatable {
    /// legacy or nft (never auto: auto is resolved when the tools are found).
    public let backend: RuleSettings.Backend
    /// Paths of iptables-save / ip6tables-save (or their -legacy / -nft names).
    public let save: [RuleSettings.Family: String]
    /// Paths of iptables-restore / ip6tables-restore (or their -legacy / -nft names).
    public let restore: [RuleSettings.Family: String]

    public init(
        backend: RuleSettings.Backend,
        save: [RuleSettings.Family: String],
        restore: [RuleSettings.Family: String]
    ) {
        self.backend = backend
        self.save = save
        self.restore = restore
    }

    /// Where programs are looked for: `$PATH`, then the sbin directories (root's tools live
    /// there, and a service's PATH may lack them).
    public static func searchPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let path = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return RuleSet.unique(path + ["/usr/local/sbin", "/usr/sbin", "/sbin"])
    }

    /// Finds the tools of `backend` for `families`. With `.auto`, runs `iptables --version`
    /// (`ip6tables` when only IPv6 is wanted) and takes the backend it names; the
    /// backend-specific names (`iptables-nft-save`) are preferred, the plain ones are the
    /// fallback for auto (older installs ship only those).
    public static func locate(
        _ backend: RuleSettings.Backend,
        families: [RuleSettings.Family],
        searchPath: [String] = IptablesTools.searchPath(),
        runner: any CommandRunning = ProcessRunner()
    ) throws(RulesError) -> IptablesTools {
        let finder = ProgramFinder(directories: searchPath)
        var resolved = backend
        if backend == .auto {
            let probe = families == [.ipv6] ? "ip6tables" : "iptables"
            let path = try finder.find(probe)
            let result = try runner.runTool(path, ["--version"], input: nil)
            let version = (result.output + result.errorOutput).trimmingCharacters(in: .whitespacesAndNewlines)
            guard result.status == 0, let detected = IptablesTools.backend(fromVersion: version) else {
                throw .unknownBackend(tool: path, version: version)
            }
            resolved = detected
        }
        var save: [RuleSettings.Family: String] = [:]
        var restore: [RuleSettings.Family: String] = [:]
        for family in families {
            let base = family == .ipv4 ? "iptables" : "ip6tables"
            save[family] = try finder.tool(base, "save", backend: resolved, fallback: backend == .auto)
            restore[family] = try finder.tool(base, "restore", backend: resolved, fallback: backend == .auto)
        }
        return IptablesTools(backend: resolved, save: save, restore: restore)
    }

    /// The backend an `iptables --version` line names: `iptables v1.8.9 (nf_tables)` is nft,
    /// `(legacy)` or no parenthesis (before 1.8) is legacy.
    public static func backend(fromVersion version: String) -> RuleSettings.Backend? {
        guard version.hasPrefix("iptables v") || version.hasPrefix("ip6tables v") else { return nil }
        if version.contains("(nf_tables)") { return .nft }
        if version.contains("(legacy)") || !version.contains("(") { return .legacy }
        return nil
    }

    /// A short name for messages: `iptables-nft`, `ip6tables-legacy`.
    public func name(_ family: RuleSettings.Family) -> String {
        "\(family == .ipv4 ? "iptables" : "ip6tables")-\(backend.rawValue)"
    }
}

/// Looks programs up in a list of directories.
struct ProgramFinder {
    let directories: [String]

    func lookup(_ name: String) -> String? {
        for directory in directories where !directory.isEmpty {
            let path = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    func find(_ name: String) throws(RulesError) -> String {
        guard let path = lookup(name) else { throw .toolMissing(name: name, searched: directories) }
        return path
    }

    /// `iptables-nft-save` and the like; with `fallback`, the plain `iptables-save` when the
    /// backend-specific name is missing.
    func tool(_ base: String, _ program: String, backend: RuleSettings.Backend, fallback: Bool) throws(RulesError)
        -> String
    {
        let specific = "\(base)-\(backend.rawValue)-\(program)"
        if let path = lookup(specific) { return path }
        if fallback, let path = lookup("\(base)-\(program)") { return path }
        throw .toolMissing(name: specific, searched: directories)
    }
}
