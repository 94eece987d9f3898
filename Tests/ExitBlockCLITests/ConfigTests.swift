import ArgumentParser
import Foundation
import Testing

@testable import ExitBlockCLI
@testable import ExitBlockConfiguration

/// A command tree like exitblock's, with every kind of argument, so the schema and the
/// expansion are tested against definitions these tests control.
private enum Mode: String, EnumerableFlag { case packet, flow }
private struct Settings: ParsableArguments {
    @Option var chain: String = "EXITBLOCK"
    @Flag(inversion: .prefixedEnableDisable) var bypass = true
}
private struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "install")
    @OptionGroup var settings: Settings
    @OptionGroup var configFile: ConfigFileOption
}
private struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(subcommands: [Install.self])
}
private struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run")
    @Option var queue: [String] = []
    @Option var copyRange: Int = 64
    @Option var format: String?
    @Flag(inversion: .prefixedNo) var gso = true
    @Flag var dryRun = false
    @Flag var mode: Mode = .packet
    @Flag(name: .shortAndLong) var verbose: Int
    @OptionGroup var configFile: ConfigFileOption
}
private struct BGP: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bgp")
    @Option var format: String?
    @Option var maxRoutes: Int = 10
    @OptionGroup var configFile: ConfigFileOption
}
private struct Root: ParsableCommand {
    static let configuration = CommandConfiguration(subcommands: [Run.self, Rules.self, BGP.self])
}

private func file(_ text: String) throws(ConfigErrors) -> ConfigFile {
    try ConfigFile(path: "t.toml", text: text, schema: ConfigSchema.load(root: Root.self))
}

private func errors(_ text: String) -> [ConfigError] {
    do {
        _ = try file(text)
        return []
    } catch {
        return error.errors
    }
}

@Suite struct ConfigSchemaTests {
    @Test func keysComeFromTheArgumentDefinitions() throws {
        let schema = ConfigSchema.load(root: Root.self)
        let run = try #require(schema.table("run"))
        #expect(
            run.keys.map(\.name) == ["queue", "copy-range", "format", "gso", "dry-run", "packet", "flow", "verbose"]
        )
        #expect(run.key("queue")?.kind == .values)
        #expect(run.key("copy-range")?.kind == .value)
        #expect(run.key("copy-range")?.defaultText == "64")
        #expect(run.key("gso")?.kind == .toggle(off: "--no-gso"))
        #expect(run.key("gso")?.defaultText == "true")
        #expect(run.key("dry-run")?.kind == .flag)
        #expect(run.key("verbose")?.kind == .count)
        #expect(run.key(forArgument: "--no-gso")?.name == "gso")
        #expect(run.key(forArgument: "-v")?.name == "verbose")
        let rules = try #require(schema.table("rules"))
        #expect(rules.path == ["rules", "install"])
        #expect(rules.keys.map(\.name) == ["chain", "bypass"])
        #expect(rules.key("bypass")?.kind == .toggle(off: "--disable-bypass"))
    }

    @Test func everyRunOptionOfExitblockIsAKey() throws {
        let run = try #require(ConfigSchema.load(root: ExitBlockCommand.self).table("run"))
        let help = RunCommand.helpMessage(columns: 400)
        // Every long option the help shows, except help/version/config, is a key (a toggle's
        // --no- form is the same key).
        var options = Set<String>()
        var rest = Substring(help)
        while let range = rest.range(of: "--") {
            let name = rest[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
            if !name.isEmpty { options.insert(String(name)) }
            rest = rest[range.upperBound...]
        }
        for option in options.subtracting(ConfigSchema.excludedNames) {
            #expect(run.key(forArgument: "--" + option) != nil, "--\(option) is not a config key")
        }
        #expect(run.key("queue")?.kind == .values)
        #expect(run.key("list")?.kind == .values)
    }
}

@Suite struct ConfigFileTests {
    @Test func valuesBecomeArguments() throws {
        let config = try file(
            """
            # top-level keys belong to [run]
            queue = ["0-3", 5]
            [run]
            copy-range = 128
            gso = false
            dry-run = true
            flow = true
            verbose = 2
            format = 'plain'
            [rules]
            bypass = false
            """
        )
        #expect(
            config.arguments(of: "run") == [
                "--queue=0-3", "--queue=5", "--copy-range=128", "--no-gso", "--dry-run", "--flow", "--verbose",
                "--verbose", "--format=plain",
            ]
        )
        #expect(config.arguments(of: "rules") == ["--disable-bypass"])
        #expect(config.settings(of: "run").map(\.line) == [2, 4, 5, 6, 7, 8, 9])
        #expect(config.settings(of: "run").first?.text == "[\"0-3\", 5]")
    }

    @Test func aSingleValueIsAcceptedForARepeatableOption() throws {
        #expect(try file("queue = \"0\"").arguments(of: "run") == ["--queue=0"])
    }

    @Test func unknownKeysAndWrongTypesNameTheKeyAndLine() {
        let found = errors(
            """
            [run]
            queue = ["0"]
            copy-rang = 1
            gso = "no"

            copy-range = [1, 2]
            queue2 = {a = 1}
            [bogus]
            x = 1
            """
        )
        #expect(
            found.map(\.description) == [
                "t.toml:3: copy-rang: unknown key in [run]; did you mean \"copy-range\"?",
                "t.toml:4: gso: expected true or false, found a string",
                "t.toml:6: copy-range: expected one value (a string, number or boolean; the option is not repeatable), found an array",
                "t.toml:7: queue2: unknown key in [run]; did you mean \"queue\"?",
                "t.toml:8: unknown table [bogus]; the tables are [run], [rules], [bgp]",
            ]
        )
    }

    @Test func arrayElementsMustBeScalars() {
        #expect(
            errors("queue = [[1]]").map(\.description) == [
                "t.toml:1: queue: expected an array of strings, numbers or booleans, found an element of type an array"
            ]
        )
    }

    @Test func syntaxErrorsNameTheLine() throws {
        let found = errors("[run]\nqueue = [\"0\"\ncopy-range = 1\n")
        let error = try #require(found.first)
        #expect(error.line == 3)
        #expect(error.description.hasPrefix("t.toml:3: "))
    }

    @Test func aKeySetTwiceIsAnError() {
        #expect(errors("copy-range = 1\n[run]\ncopy-range = 2\n").map(\.line) == [3])
    }

    @Test func configCannotNameAConfig() {
        #expect(errors("config = \"/x\"").first?.message == "a config file cannot name another config file")
    }

    @Test func keyLinesSkipStringsCommentsAndArrays() {
        let lines = ConfigKeyLines(
            scanning: """
                # a = 1
                a = "x = 1" # b = 2
                list = [
                  "c = 3",
                ]
                text = \"\"\"
                d = 4
                \"\"\"
                [run]
                "quoted-key" = 1
                e.f = 2
                """
        )
        #expect(lines.line(table: "", key: "a") == 2)
        #expect(lines.line(table: "", key: "list") == 3)
        #expect(lines.line(table: "", key: "text") == 6)
        #expect(lines.line(table: "", key: "c") == nil)
        #expect(lines.line(table: "", key: "d") == nil)
        #expect(lines.line(table: "", key: "b") == nil)
        #expect(lines.line(table: "run", key: "quoted-key") == 10)
        #expect(lines.line(table: "run", key: "e.f") == 11)
    }
}

@Suite struct ConfigExpansionTests {
    private func expand(_ arguments: [String], config: String) throws -> ConfigExpansion {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("eb-config-\(UUID()).toml").path
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ConfigExpansion(
            arguments: arguments.map { $0.replacingOccurrences(of: "FILE", with: path) },
            root: Root.self
        )
    }

    @Test func fileSettingsComeFirstAndTheCommandLineReplacesAKey() throws {
        let expansion = try expand(
            ["run", "--config", "FILE", "--queue", "7", "--copy-range=99", "-v"],
            config: "queue = [\"0\", \"1\"]\ncopy-range = 5\ndry-run = true\nverbose = 3\n"
        )
        #expect(Array(expansion.arguments.prefix(2)) == ["run", "--dry-run"])
        #expect(Array(expansion.arguments.suffix(4)) == ["--queue", "7", "--copy-range=99", "-v"])
        let run = try #require(try Root.parseAsRoot(expansion.arguments) as? Run)
        #expect(run.queue == ["7"])
        #expect(run.copyRange == 99)
        #expect(run.dryRun)
        #expect(run.verbose == 1)
    }

    @Test func aToggleOnTheCommandLineWins() throws {
        let expansion = try expand(["run", "--gso", "--config=FILE"], config: "gso = false\n")
        let run = try #require(try Root.parseAsRoot(expansion.arguments) as? Run)
        #expect(run.gso)
    }

    @Test func withoutConfigNothingChanges() throws {
        #expect(
            try ConfigExpansion(arguments: ["run", "--queue", "1"], root: Root.self).arguments == [
                "run", "--queue", "1",
            ]
        )
        #expect(ConfigExpansion.configPath(in: ["run", "--", "--config", "x"]) == nil)
    }

    @Test func rulesInstallReadsTheRulesTable() throws {
        let expansion = try expand(["rules", "install", "--config", "FILE"], config: "[rules]\nchain = \"EB\"\n")
        let install = try #require(try Root.parseAsRoot(expansion.arguments) as? Install)
        #expect(install.settings.chain == "EB")
    }

    @Test func bgpTakesTheTopLevelKeysItKnowsAndItsOwnTable() throws {
        let shared = try expand(["bgp", "--config", "FILE"], config: "format = \"plain\"\nqueue = [\"0\"]\n")
        let bgp = try #require(try Root.parseAsRoot(shared.arguments) as? BGP)
        #expect(bgp.format == "plain")
        let config = "format = \"plain\"\n[bgp]\nformat = \"consensus\"\nmax-routes = 3\n"
        let own = try #require(
            try Root.parseAsRoot(try expand(["bgp", "--config", "FILE"], config: config).arguments) as? BGP
        )
        #expect(own.format == "consensus" && own.maxRoutes == 3)
        let run = try #require(
            try Root.parseAsRoot(try expand(["run", "--config", "FILE"], config: config).arguments) as? Run
        )
        #expect(run.format == "plain")
    }

    @Test func aBadValueFromTheFileIsLocated() throws {
        let expansion = try expand(["run", "--config", "FILE"], config: "\n\ncopy-range = \"many\"\n")
        do {
            _ = try Root.parseAsRoot(expansion.arguments)
            Issue.record("parsed a bad value")
        } catch {
            let located = expansion.locate(Root.message(for: error))
            #expect(located.contains(":3: copy-range: \"many\": "))
        }
    }
}

@Suite struct ConfigCheckTests {
    private var exampleURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../dist/exitblock.toml")
            .standardized
    }

    @Test func theShippedExamplePassesAndNamesEveryRunKey() throws {
        let report = try ConfigCheckCommand.check(path: exampleURL.path, root: ExitBlockCommand.self)
        #expect(report.contains("queue = [\"0\"]"))
        let text = try String(contentsOf: exampleURL, encoding: .utf8)
        let run = try #require(ConfigSchema.load(root: ExitBlockCommand.self).table("run"))
        for key in run.keys {
            let mentioned = text.split(separator: "\n").contains {
                $0.hasPrefix("\(key.name) = ") || $0.hasPrefix("# \(key.name) = ")
            }
            #expect(mentioned, "dist/exitblock.toml does not show the key \(key.name)")
        }
    }

    @Test func theReportMarksWhereEachValueCameFrom() throws {
        let schema = ConfigSchema.load(root: Root.self)
        let config = try ConfigFile(path: "t.toml", text: "queue = [\"0\"]\n\ngso = false\n", schema: schema)
        let report = ConfigCheckCommand.render(schema: schema, file: config)
        let lines = report.split(separator: "\n").map { String($0) }
        #expect(lines.contains { $0.hasPrefix("queue = [\"0\"]") && $0.hasSuffix("# from the file, line 1") })
        #expect(lines.contains { $0.hasPrefix("gso = false") && $0.hasSuffix("# from the file, line 3") })
        #expect(lines.contains { $0.hasPrefix("copy-range = 64") && $0.hasSuffix("# default") })
        #expect(lines.contains { $0.hasPrefix("chain = \"EXITBLOCK\"") && $0.hasSuffix("# default") })
        #expect(lines.contains { $0.hasPrefix("# format =") && $0.hasSuffix("# not set") })
    }

    @Test func aValueTheCommandRefusesIsReportedWithItsLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("eb-check-\(UUID()).toml").path
        try "[run]\nqueue = [\"0\"]\nlist = [\"/x\"]\ncopy-range = \"lots\"\n".write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ConfigErrors.self) { try ConfigCheckCommand.check(path: path, root: ExitBlockCommand.self) }
        do {
            _ = try ConfigCheckCommand.check(path: path, root: ExitBlockCommand.self)
        } catch {
            #expect(error.errors.first?.line == 4)
            #expect(error.errors.first?.key == "copy-range")
        }
    }
}
