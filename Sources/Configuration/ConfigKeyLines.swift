/// Where each key of a TOML document is set: "table.key" -> line number (1-based). The
/// TOML library reports positions only for syntax errors, so the text is scanned for them
/// (`ConfigKeyScanner`).
public struct ConfigKeyLines {
    public private(set) var lines: [String: Int] = [:]

    /// The line of `key` in `table` ("" for the top level).
    public func line(table: String, key: String) -> Int? {
        lines[table.isEmpty ? key : table + "." + key]
    }

    /// Scans `text` (see `ConfigKeyScanner`).
    public init(scanning text: String) {
        var scanner = ConfigKeyScanner(text)
        lines = scanner.scan()
    }
}
