import Foundation
import SystemPackage
import TOMLKit

/// A config file read and checked against the schema: for each table, the settings it
/// makes, each with its line and the command-line arguments it stands for.
public struct ConfigFile {
    public struct Setting {
        public var key: ConfigSchema.Key
        public var line: Int?
        /// The value as TOML ("[\"0-3\"]", "true", "\"30m\"").
        public var text: String
        /// What it means on the command line (["--queue=0-3"]).
        public var arguments: [String]
    }

    public let path: String
    /// Settings per table name, in file order.
    public private(set) var settings: [String: [Setting]] = [:]

    /// Reads and checks `path`. Every unknown key and every value of the wrong type is
    /// reported (all of them, as `ConfigErrors`); a syntax error stops at the first.
    public init(path: String, schema: ConfigSchema) throws(ConfigErrors) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigErrors(errors: [ConfigError(file: path, "cannot read the file: \(Self.reason(error))")])
        }
        try self.init(path: path, text: text, schema: schema)
    }

    public init(path: String, text: String, schema: ConfigSchema) throws(ConfigErrors) {
        self.path = path
        let document = try Self.parse(text, path: path)
        let lines = ConfigKeyLines(scanning: text)
        guard let topTable = schema.tables.first else {
            throw ConfigErrors(errors: [ConfigError(file: path, "no command takes settings (help dump unreadable)")])
        }
        var errors: [ConfigError] = []
        let entries = Self.entries(
            of: document,
            schema: schema,
            topTable: topTable,
            lines: lines,
            path: path,
            errors: &errors
        )
        for entry in entries {
            do throws(ConfigError) {
                try add(entry, line: lines.line(table: entry.prefix, key: entry.key))
            } catch {
                errors.append(error)
            }
        }
        guard errors.isEmpty else {
            throw ConfigErrors(errors: errors.sorted { ($0.line ?? 0) < ($1.line ?? 0) })
        }
    }

    /// One key of the file with the table it configures: `prefix` is the table's name in
    /// the file ("" for a top-level key).
    private struct Entry {
        var table: ConfigSchema.Table
        var prefix: String
        var key: String
        var value: TOMLValueConvertible
    }

    /// The document, or its syntax error with the line and column.
    private static func parse(_ text: String, path: String) throws(ConfigErrors) -> TOMLTable {
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigErrors(errors: [
                ConfigError(
                    file: path,
                    line: error.source.begin.line,
                    "\(error.description) (column \(error.source.begin.column))"
                )
            ])
        } catch {
            throw ConfigErrors(errors: [ConfigError(file: path, "\(error)")])
        }
    }

    /// Every key with the table it configures, in file order: top-level keys belong to the
    /// first table; tables name their command; an unknown table is an error.
    private static func entries(
        of document: TOMLTable,
        schema: ConfigSchema,
        topTable: ConfigSchema.Table,
        lines: ConfigKeyLines,
        path: String,
        errors: inout [ConfigError]
    ) -> [Entry] {
        let tableNames = schema.tables.map { "[\($0.name)]" }.joined(separator: ", ")
        var entries: [Entry] = []
        var topLevel: [(String, TOMLValueConvertible)] = []
        for (key, value) in ordered(document, lines: lines, prefix: "") {
            if let table = schema.table(key), value.type == .table, let inner = value.table {
                for (innerKey, innerValue) in ordered(inner, lines: lines, prefix: key) {
                    entries.append(Entry(table: table, prefix: key, key: innerKey, value: innerValue))
                }
            } else if value.type == .table {
                let message = "unknown table [\(key)]; the tables are \(tableNames)"
                errors.append(ConfigError(file: path, line: lines.line(table: "", key: key), message))
            } else {
                entries.append(Entry(table: topTable, prefix: "", key: key, value: value))
                topLevel.append((key, value))
            }
        }
        // Tables that share the top-level keys (`bgp` reads the same lists as `run`) take
        // those they know and do not set themselves.
        let sharing = schema.tables.filter {
            ConfigSchema.sharingTopLevel.contains($0.name) && $0.name != topTable.name
        }
        for table in sharing {
            let own = Set(entries.filter { $0.table.name == table.name }.map(\.key))
            for (key, value) in topLevel where table.key(key) != nil && !own.contains(key) {
                entries.append(Entry(table: table, prefix: "", key: key, value: value))
            }
        }
        return entries
    }

    /// Checks one key against its table's schema and records its setting.
    private mutating func add(_ entry: Entry, line: Int?) throws(ConfigError) {
        guard let key = entry.table.key(entry.key) else {
            var message = "unknown key in [\(entry.table.name)]"
            if entry.key == "config" { message = "a config file cannot name another config file" }
            if let near = Self.nearest(entry.key, in: entry.table.keys.map(\.name)) {
                message += "; did you mean \"\(near)\"?"
            }
            throw ConfigError(file: path, line: line, key: entry.key, message)
        }
        if settings[entry.table.name, default: []].contains(where: { $0.key.name == key.name }) {
            let message = "set twice (at the top level and in [\(entry.table.name)])"
            throw ConfigError(file: path, line: line, key: key.name, message)
        }
        let arguments = try Self.arguments(for: key, entry.value, file: path, line: line)
        settings[entry.table.name, default: []].append(
            Setting(key: key, line: line, text: Self.render(entry.value), arguments: arguments)
        )
    }

    /// The settings of table `name`, in file order.
    public func settings(of name: String) -> [Setting] { settings[name] ?? [] }

    /// The command-line arguments the settings of table `name` stand for, leaving out the
    /// keys in `overridden` (set on the command line, which wins).
    public func arguments(of name: String, overridden: Set<String> = []) -> [String] {
        settings(of: name).filter { !overridden.contains($0.key.name) }.flatMap(\.arguments)
    }

    // MARK: - Values

    /// The arguments a value stands for; the wrong TOML type is an error naming what was expected.
    public static func arguments(
        for key: ConfigSchema.Key,
        _ value: TOMLValueConvertible,
        file: String,
        line: Int?
    ) throws(ConfigError) -> [String] {
        func wrong(_ expected: String) -> ConfigError {
            ConfigError(file: file, line: line, key: key.name, "expected \(expected), found \(describe(value.type))")
        }
        switch key.kind {
        case .value:
            guard let text = scalar(value) else {
                throw wrong("one value (a string, number or boolean; the option is not repeatable)")
            }
            return [key.option + "=" + text]
        case .values:
            if let text = scalar(value) { return [key.option + "=" + text] }
            guard let array = value.array else { throw wrong("an array of values") }
            var arguments: [String] = []
            for element in array {
                guard let text = scalar(element) else {
                    throw ConfigError(
                        file: file,
                        line: line,
                        key: key.name,
                        "expected an array of strings, numbers or booleans, found an element of type \(describe(element.type))"
                    )
                }
                arguments.append(key.option + "=" + text)
            }
            return arguments
        case .flag:
            guard let on = value.bool else { throw wrong("true or false") }
            return on ? [key.option] : []
        case .toggle(let off):
            guard let on = value.bool else { throw wrong("true or false") }
            return [on ? key.option : off]
        case .count:
            if let on = value.bool { return on ? [key.option] : [] }
            guard let count = value.int, (0...100).contains(count) else { throw wrong("a count from 0 to 100") }
            return Array(repeating: key.option, count: count)
        }
    }

    /// A string, integer, float or boolean as its command-line text; nil for other types.
    private static func scalar(_ value: TOMLValueConvertible) -> String? {
        switch value.type {
        case .string: return value.string
        case .int: return value.int.map { String($0) }
        case .double: return value.double.map { "\($0)" }
        case .bool: return value.bool.map { $0 ? "true" : "false" }
        default: return nil
        }
    }

    public static func describe(_ type: TOMLType) -> String {
        switch type {
        case .table: return "a table"
        case .array: return "an array"
        case .string: return "a string"
        case .int: return "an integer"
        case .double: return "a float"
        case .bool: return "a boolean"
        case .date: return "a date"
        case .time: return "a time"
        case .dateTime: return "a date-time"
        }
    }

    /// The value written as TOML (for `config check`).
    public static func render(_ value: TOMLValueConvertible) -> String {
        switch value.type {
        case .string: return quote(value.string ?? "")
        case .int: return value.int.map { String($0) } ?? "?"
        case .double: return value.double.map { "\($0)" } ?? "?"
        case .bool: return value.bool == true ? "true" : "false"
        case .array: return "[" + (value.array.map { $0.map(render).joined(separator: ", ") } ?? "") + "]"
        default: return value.debugDescription
        }
    }

    /// A TOML basic string.
    public static func quote(_ text: String) -> String {
        var out = "\""
        for character in text.unicodeScalars {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where character.value < 0x20 || character.value == 0x7f:
                out += String(format: "\\u%04X", character.value)
            default: out.unicodeScalars.append(character)
            }
        }
        return out + "\""
    }

    // MARK: - Helpers

    /// The table's entries in file order (the library hands them out sorted by key).
    private static func ordered(
        _ table: TOMLTable,
        lines: ConfigKeyLines,
        prefix: String
    ) -> [(String, TOMLValueConvertible)] {
        var entries: [(String, TOMLValueConvertible)] = []
        for key in table.keys {
            if let value = table[key] { entries.append((key, value)) }
        }
        return entries.sorted {
            (lines.line(table: prefix, key: $0.0) ?? Int.max, $0.0) < (
                lines.line(table: prefix, key: $1.0) ?? Int.max, $1.0
            )
        }
    }

    /// The known key closest to a misspelt one (edit distance at most 2).
    public static func nearest(_ word: String, in candidates: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for (i, x) in a.enumerated() {
                var current = [i + 1]
                for (j, y) in b.enumerated() {
                    current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
                }
                previous = current
            }
            return previous[b.count]
        }
        let scored = candidates.map { ($0, distance(Array(word), Array($0))) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    private static func reason(_ error: Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let underlying, underlying.domain == NSPOSIXErrorDomain {
            return Errno(rawValue: Int32(underlying.code)).description
        }
        return (error as NSError).localizedDescription
    }
}
