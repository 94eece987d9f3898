import ArgumentParser
import ExitBlock
import ExitSet

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Say whether an address would be blocked, and by which entry of which list.",
        discussion: """
            With --allow, an address in the allowlist is not blocked, whatever the lists say; \
            the answer names the allowlist entry and where it came from. Exit status: 0 blocked, \
            1 not blocked (allowlisted included), 2 error (bad address, unusable list).
            """
    )

    @Argument(help: "An IPv4 or IPv6 address (IPv6 may be bracketed).")
    var address: String

    @Option(
        name: .customLong("list"),
        help: ArgumentHelp("A list file; repeatable.", valueName: "path")
    )
    var lists: [String]

    @Option(
        name: .customLong("allow"),
        help: ArgumentHelp(
            "An allowlisted address or prefix, or an allowlist file (any format); repeatable.",
            valueName: "address|path"
        )
    )
    var allows: [String] = []

    @Option(help: "List format; detected from the content when not given.")
    var format: ListFormat?

    func validate() throws {
        guard !lists.isEmpty else { throw ValidationError("give at least one --list") }
    }

    func run() throws {
        guard let parsed = IPAddress(address) else {
            Output.error("'\(address)' is not an IPv4 or IPv6 address")
            throw ExitCode(Status.failure)
        }
        let loaded: (set: ExitSet, lists: [LoadedList])
        do {
            loaded = try ListLoader.loadSet(lists, format: format)
        } catch {
            Output.error("\(error)")
            throw ExitCode(Status.failure)
        }
        let allowlist: Allowlist
        do {
            allowlist = try Allowlist.load(allows)
        } catch {
            Output.error("allowlist: \(error)")
            throw ExitCode(Status.failure)
        }
        let listed = loaded.set.match(parsed)
        if let allowed = allowlist.match(parsed) {
            let values = allowed.values.joined(separator: ", ")
            var line = "not blocked: \(parsed) is allowlisted by \(allowed.entry) (--allow \(values))"
            if let listed {
                line += "; the allowlist wins over \(listed) (\(sources(of: listed, in: loaded.lists)))"
            }
            Output.line(line)
            throw ExitCode(Status.notBlocked)
        }
        guard let entry = listed else {
            Output.line("not blocked: \(parsed) is in no list (\(loaded.set.count) entries)")
            throw ExitCode(Status.notBlocked)
        }
        Output.line("blocked: \(parsed) matches \(entry) (\(sources(of: entry, in: loaded.lists)))")
    }

    /// The lists holding `entry`, comma separated.
    private func sources(of entry: IPPrefix, in lists: [LoadedList]) -> String {
        lists.filter { $0.list.entries.contains(entry) }.map(\.path).joined(separator: ", ")
    }
}
