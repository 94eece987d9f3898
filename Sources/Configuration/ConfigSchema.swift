import ArgumentParser
import Foundation

/// The keys a config file may set, read from the commands' own argument definitions
/// (swift-argument-parser's ToolInfoV0 rendering of them), so that every option added to a command is a key
/// at once and no hand-kept table can drift: key = the long option name.
///
/// A table of the file maps to one command (`[run]` to `exitblock run`, `[rules]` to
/// `exitblock rules install`); top-level keys belong to the first table.
public struct ConfigSchema: Sendable {
    /// How a key's value becomes command-line arguments.
    public enum Kind: Sendable, Equatable {
        /// An option taking one value: `--name=VALUE`.
        case value
        /// A repeatable option: an array, one `--name=VALUE` per element.
        case values
        /// A flag: `true` passes it, `false` passes nothing.
        case flag
        /// A flag with an inverse (`--gso`/`--no-gso`): `true` passes `on`, `false` passes `off`.
        case toggle(off: String)
        /// A repeatable flag: an integer count of repetitions.
        case count
    }

    public struct Key: Sendable {
        /// The key, which is the long option name ("copy-range").
        public var name: String
        public var kind: Kind
        /// The option as typed on the command line ("--copy-range"), for `value`, `values`,
        /// `flag` and `count`; the `on` spelling of a toggle.
        public var option: String
        /// Every spelling on the command line (long and short), so a command-line argument
        /// can be matched to the key it overrides.
        public var spellings: [String]
        /// The default as the command's help shows it; nil when there is none.
        public var defaultText: String?
        public var valueName: String?
        public var abstract: String?
    }

    public struct Table: Sendable {
        /// The table's name in the file ("run").
        public var name: String
        /// The command it configures (["run"], ["rules", "install"]).
        public var path: [String]
        public var keys: [Key]

        public func key(_ name: String) -> Key? { keys.first { $0.name == name } }

        /// The key a command-line argument ("--queue", "--queue=0", "--no-gso", "-v") sets.
        public func key(forArgument argument: String) -> Key? {
            let spelling = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            return keys.first { $0.spellings.contains(spelling) }
        }
    }

    /// Tables whose command exists, in the order given.
    public var tables: [Table]

    public func table(_ name: String) -> Table? { tables.first { $0.name == name } }
    public func table(forPath path: [String]) -> Table? { tables.first { $0.path == path } }

    /// The file's tables and the commands they configure.
    public static let tableCommands: [(name: String, path: [String])] = [
        ("run", ["run"]), ("rules", ["rules", "install"]), ("bgp", ["bgp"]),
    ]

    /// Tables that also take the top-level keys they know (the first table takes them all).
    public static let sharingTopLevel: Set<String> = ["bgp"]

    /// Options that are not settings: help, version, and the config file itself.
    public static let excludedNames: Set<String> = ["help", "version", "config", "experimental-dump-help"]

    /// The schema of `root`'s command tree.
    public static func load(
        root: any ParsableCommand.Type,
        tables: [(name: String, path: [String])] = tableCommands
    ) -> ConfigSchema {
        let tree = HelpDump.commandTree(of: root)
        var result: [Table] = []
        for (name, path) in tables {
            guard let command = tree?.descendant(path) else { continue }
            result.append(Table(name: name, path: path, keys: keys(of: command.arguments ?? [])))
        }
        return ConfigSchema(tables: result)
    }

    /// The command names along the start of `arguments` that form a path in `root`'s tree
    /// (["run"] for `run --queue 0`).
    public static func commandPath(of arguments: [String], root: any ParsableCommand.Type) -> [String] {
        guard var command = HelpDump.commandTree(of: root) else { return [] }
        var path: [String] = []
        for argument in arguments {
            guard let next = command.subcommands?.first(where: { $0.commandName == argument }) else { break }
            path.append(argument)
            command = next
        }
        return path
    }

    public static func keys(of arguments: [HelpDump.Argument]) -> [Key] {
        let flagNames = Set(arguments.filter { $0.kind == "flag" }.compactMap(\.longName))
        var keys: [Key] = []
        var consumed: Set<String> = []
        for argument in arguments where argument.kind != "positional" {
            guard let name = argument.longName ?? argument.names?.first?.name, !excludedNames.contains(name),
                !consumed.contains(name)
            else { continue }
            let spellings = (argument.names ?? []).map { $0.kind == "short" ? "-" + $0.name : "--" + $0.name }
            var key = Key(
                name: name,
                kind: .value,
                option: "--" + name,
                spellings: spellings,
                defaultText: argument.defaultValue,
                valueName: argument.valueName,
                abstract: argument.abstract
            )
            if argument.kind == "option" {
                key.kind = argument.isRepeating ? .values : .value
                if argument.longName == nil { key.option = spellings.first ?? key.option }
            } else if argument.isRepeating {
                key.kind = .count
            } else if let (base, inverse) = inversePair(name, flagNames) {
                // The two spellings of one Bool flag are two entries in the dump: join them.
                let inverseEntry = arguments.first { $0.longName == inverse }
                key.name = base
                key.kind = .toggle(off: "--" + inverse)
                key.spellings += (inverseEntry?.names ?? []).map { "--" + $0.name }
                key.defaultText = argument.defaultValue == "--" + name ? "true" : "false"
                consumed.insert(inverse)
            } else {
                key.kind = .flag
                key.defaultText = argument.defaultValue == "--" + name ? "true" : "false"
            }
            consumed.insert(name)
            keys.append(key)
        }
        return keys
    }

    /// ("gso", "no-gso") for "gso"; ("bypass", "disable-bypass") for "enable-bypass".
    private static func inversePair(_ name: String, _ flags: Set<String>) -> (key: String, inverse: String)? {
        if flags.contains("no-" + name) { return (name, "no-" + name) }
        if name.hasPrefix("enable-") {
            let base = String(name.dropFirst("enable-".count))
            if flags.contains("disable-" + base) { return (base, "disable-" + base) }
        }
        return nil
    }
}

/// The parts of swift-argument-parser's ToolInfoV0 JSON (what `--experimental-dump-help`
/// prints, rendered by `_dumpHelp()`) that the config schema reads.
public enum HelpDump {
    public struct Tool: Decodable {
        public var serializationVersion: Int
        public var command: Command
    }

    public struct Command: Decodable {
        public var commandName: String
        public var subcommands: [Command]?
        public var arguments: [Argument]?

        public func descendant(_ path: [String]) -> Command? {
            var command = self
            for name in path {
                guard let next = command.subcommands?.first(where: { $0.commandName == name }) else { return nil }
                command = next
            }
            return command
        }
    }

    public struct Argument: Decodable {
        public struct Name: Decodable {
            public var kind: String
            public var name: String
        }

        public var kind: String
        public var names: [Name]?
        public var isRepeating: Bool
        public var defaultValue: String?
        public var valueName: String?
        public var abstract: String?

        public var longName: String? { names?.first { $0.kind == "long" }?.name }
    }

    /// The tree of `root` and its subcommands, from the JSON that swift-argument-parser renders
    /// from the commands' own argument definitions (`_dumpHelp()`, the data behind
    /// `--experimental-dump-help`, taken directly and not from a thrown error). nil if it cannot
    /// be read (a newer serialization version, say), in which case no key is known and every
    /// key is refused. The library keeps its ToolInfoV0 types in a module it does not export,
    /// hence the mirror types above.
    public static func commandTree(of root: any ParsableCommand.Type) -> Command? {
        let json = root._dumpHelp()
        guard let tool = try? JSONDecoder().decode(Tool.self, from: Data(json.utf8)), tool.serializationVersion == 0
        else { return nil }
        return tool.command
    }
}
