import ArgumentParser

/// Applies `--config FILE` before the command line is parsed: the file's settings for the
/// command become arguments in front of the command line's, and a key also given on the
/// command line is taken from the command line only (for repeatable options too: the
/// command line's `--list` values replace the file's, they do not add to them).
public struct ConfigExpansion {
    /// The arguments to parse.
    public private(set) var arguments: [String]
    public private(set) var file: ConfigFile?
    public private(set) var table: ConfigSchema.Table?

    public init(arguments: [String], root: any ParsableCommand.Type) throws(ConfigErrors) {
        self.arguments = arguments
        guard let configPath = Self.configPath(in: arguments) else { return }
        let path = ConfigSchema.commandPath(of: arguments, root: root)
        let schema = ConfigSchema.load(root: root)
        guard let table = schema.table(forPath: path) else { return }  // the parser rejects --config there
        let file = try ConfigFile(path: configPath, schema: schema)
        let commandLine = Array(arguments.dropFirst(path.count))
        let overridden = Set(Self.optionArguments(commandLine).compactMap { table.key(forArgument: $0)?.name })
        self.arguments = path + file.arguments(of: table.name, overridden: overridden) + commandLine
        self.file = file
        self.table = table
    }

    /// The value of `--config FILE` or `--config=FILE`, before any `--`.
    public static func configPath(in arguments: [String]) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--" { return nil }
            if argument == "--config" { return index + 1 < arguments.count ? arguments[index + 1] : nil }
            if argument.hasPrefix("--config=") { return String(argument.dropFirst("--config=".count)) }
        }
        return nil
    }

    /// The option spellings used on a command line: "--name", "--name=value", and each
    /// letter of "-abc" as "-a", "-b", "-c"; nothing after "--".
    public static func optionArguments(_ arguments: [String]) -> [String] {
        var options: [String] = []
        for argument in arguments {
            if argument == "--" { break }
            if argument.hasPrefix("--") {
                options.append(argument)
            } else if argument.hasPrefix("-"), argument.count > 1, Int(argument) == nil {
                options += argument.dropFirst().map { "-\($0)" }
            }
        }
        return options
    }

    /// A parse error's message, with the file and line of the setting it is about when that
    /// setting came from the config file ("exitblock.toml:7: copy-range: \"x\": ...").
    public func locate(_ message: String) -> String {
        guard let file, let table else { return message }
        let settings = file.settings(of: table.name)
        for option in Self.mentionedOptions(message) {
            guard let key = table.key(forArgument: option),
                let setting = settings.first(where: { $0.key.name == key.name }),
                arguments.contains(where: { setting.arguments.contains($0) })
            else { continue }
            return ConfigError(file: file.path, line: setting.line, key: key.name, "\(setting.text): \(message)")
                .description
        }
        return message + " (settings from \(file.path) and the command line)"
    }

    /// The "--long-name" spellings mentioned in a message, in order.
    public static func mentionedOptions(_ message: String) -> [String] {
        var found: [String] = []
        var rest = Substring(message)
        while let range = rest.range(of: "--") {
            let name = rest[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
            if !name.isEmpty { found.append("--" + name) }
            rest = rest[range.upperBound...].dropFirst(name.count)
        }
        return found
    }
}
