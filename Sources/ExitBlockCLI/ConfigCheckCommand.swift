import ArgumentParser
import ExitBlockConfiguration
import LinuxSystem

/// `exitblock config check FILE`: validates a config file exactly as `run --config FILE`
/// would read it, and prints the effective configuration.
struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config file and print the effective configuration.",
        discussion: """
            Every unknown key, value of the wrong type and value the command would refuse is \
            reported as FILE:LINE: KEY: reason, and the exit status is 2. A valid file is printed \
            back as TOML with every setting of each command: the file's value (with its line) or \
            the default. Exit status 0 when valid.
            """
    )

    @Argument(help: ArgumentHelp("The config file.", valueName: "file"))
    var path: String = "/etc/exitblock/exitblock.toml"

    func run() throws {
        let report: String
        do {
            report = try Self.check(path: path, root: ExitBlockCommand.self)
        } catch {
            for line in "\(error)".split(separator: "\n") { Output.error(String(line)) }
            throw ExitCode(Status.failure)
        }
        Output.write(report)
    }

    /// Checks the file at `path` against `root`'s commands; returns the effective
    /// configuration as commented TOML, or throws every problem found.
    static func check(path: String, root: any ParsableCommand.Type) throws(ConfigErrors) -> String {
        let schema = ConfigSchema.load(root: root)
        let file = try ConfigFile(path: path, schema: schema)
        var problems: [ConfigError] = []
        // Every table the file sets; the first one also when the file sets none (a file for
        // `exitblock bgp` alone sets only [bgp], and [run]'s required options are not its business).
        let empty = schema.tables.allSatisfy { file.settings(of: $0.name).isEmpty }
        let checked = schema.tables.filter {
            !file.settings(of: $0.name).isEmpty || (empty && $0.path == schema.tables.first?.path)
        }
        for table in checked {
            let arguments = table.path + file.arguments(of: table.name)
            do {
                _ = try root.parseAsRoot(arguments)
            } catch {
                let message = root.message(for: error)
                problems.append(Self.locate(message, table: table, file: file))
            }
        }
        guard problems.isEmpty else { throw ConfigErrors(errors: problems) }
        return render(schema: schema, file: file)
    }

    /// The parse error as a config error on the setting it names (see ConfigExpansion.locate).
    private static func locate(_ message: String, table: ConfigSchema.Table, file: ConfigFile) -> ConfigError {
        let settings = file.settings(of: table.name)
        for option in ConfigExpansion.mentionedOptions(message) {
            guard let key = table.key(forArgument: option),
                let setting = settings.first(where: { $0.key.name == key.name })
            else { continue }
            return ConfigError(file: file.path, line: setting.line, key: key.name, "\(setting.text): \(message)")
        }
        return ConfigError(file: file.path, "[\(table.name)]: \(message)")
    }

    /// The effective configuration: every key of every table, the file's value or the default.
    static func render(schema: ConfigSchema, file: ConfigFile) -> String {
        var out = "# \(file.path): valid\n"
        for table in schema.tables {
            out += "\n[\(table.name)]\n"
            let settings = file.settings(of: table.name)
            for key in table.keys {
                let entry: String
                let origin: String
                if let setting = settings.first(where: { $0.key.name == key.name }) {
                    entry = "\(key.name) = \(setting.text)"
                    origin = "from the file" + (setting.line.map { ", line \($0)" } ?? "")
                } else if let text = key.defaultText {
                    entry = "\(key.name) = \(defaultLiteral(text, kind: key.kind))"
                    origin = "default"
                } else {
                    entry = "# \(key.name) ="
                    origin = "not set"
                }
                let padding = String(repeating: " ", count: max(1, 44 - entry.count))
                out += entry + padding + "# " + origin + "\n"
            }
        }
        return out
    }

    /// A default as the help shows it ("64", "accept", "true"), written as a TOML value.
    private static func defaultLiteral(_ text: String, kind: ConfigSchema.Kind) -> String {
        switch kind {
        case .flag, .toggle: return text
        case .count: return Int(text) != nil ? text : "0"
        case .value, .values:
            let literal = Int(text) != nil || Double(text) != nil || text == "true" || text == "false"
            let value = literal ? text : ConfigFile.quote(text)
            return kind == .values ? "[\(value)]" : value
        }
    }
}
