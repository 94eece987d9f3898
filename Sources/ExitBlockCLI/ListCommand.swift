import ArgumentParser
import Engine
import ExitSet
import LinuxSystem
import ListSources

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Work with exit lists.",
        subcommands: [ListParseCommand.self]
    )
}

struct ListParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Print the normalized set of a list, one entry per line.",
        discussion: """
            Entries are printed in numeric order, IPv4 before IPv6, IPv6 in RFC 5952 form, \
            host addresses without a prefix length. A summary and every rejected line (with \
            its line number and the reason) go to stderr. Exit status 2 when the list is \
            refused (empty, binary, no valid entry). With --policy each entry is followed by a             tab and its port policy in dir-spec's summary form ("accept 80,443", "accept             1-65535" for an entry that covers every port).
            """
    )

    @Argument(help: "The list file.")
    var path: String

    @Option(help: "List format; detected from the content when not given.")
    var format: ListFormat?

    @Flag(help: "Print each entry's port policy after a tab.")
    var policy = false

    func run() throws {
        let loaded: LoadedList
        do {
            loaded = try ListLoader.load(path, format: format)
        } catch {
            Output.error("\(error)")
            throw ExitCode(Status.failure)
        }
        let set = ExitSet(loaded.list.entries, policies: loaded.list.policies)
        var text = ""
        text.reserveCapacity(set.count * 20)
        for entry in set.entries {
            text += entry.description
            if policy {
                text += "\t"
                text += (loaded.list.policies[entry] ?? .all).summary
            }
            text += "\n"
        }
        Output.write(text)
        loaded.report(rejectedLimit: Int.max)
    }
}
