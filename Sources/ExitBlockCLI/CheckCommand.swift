import ArgumentParser
import ExitBlock
import ExitSet

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Say whether an address would be blocked, and by which entry of which list.",
        discussion: "Exit status: 0 blocked, 1 not blocked, 2 error (bad address, unusable list)."
    )

    @Argument(help: "An IPv4 or IPv6 address (IPv6 may be bracketed).")
    var address: String

    @Option(
        name: .customLong("list"),
        help: ArgumentHelp("A list file; repeatable.", valueName: "path")
    )
    var lists: [String]

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
        guard let entry = loaded.set.match(parsed) else {
            Output.line("not blocked: \(parsed) is in no list (\(loaded.set.count) entries)")
            throw ExitCode(Status.notBlocked)
        }
        let sources = loaded.lists.filter { $0.list.entries.contains(entry) }.map(\.path)
        Output.line("blocked: \(parsed) matches \(entry) (\(sources.joined(separator: ", ")))")
    }
}
