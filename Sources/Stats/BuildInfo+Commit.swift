internal import CBuildInfo

extension MetricsSnapshot.BuildInfo {
    /// `git describe --always --dirty` of the checkout this binary was built from, as the
    /// build passed it in EXITBLOCK_GIT_DESCRIBE (see docs/operator-guide.md, install from source); "" when not given.
    public static let commit = String(cString: exitblock_git_describe())

    /// The target this binary was compiled for, from compile-time conditions.
    public static var target: String {
        #if arch(x86_64)
            let arch = "x86_64"
        #elseif arch(arm64)
            let arch = "aarch64"
        #else
            let arch = "unknown architecture"
        #endif
        #if os(Linux)
            return "Linux \(arch)"
        #else
            return arch
        #endif
    }

    /// One line: "0.1.0 (commit v0.1.0-4-g1a2b3c4, Swift 6.3, Linux x86_64)"; the commit part
    /// is left out when the build named none.
    public var summary: String {
        var parts: [String] = []
        if !commit.isEmpty { parts.append("commit \(commit)") }
        parts.append("Swift \(swift)")
        parts.append(Self.target)
        return "\(version) (\(parts.joined(separator: ", ")))"
    }
}
