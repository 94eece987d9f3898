import ArgumentParser

@main
struct ExitBlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exitblock",
        abstract: "Drop traffic from Tor exit nodes inline, through NFQUEUE.",
        discussion: """
            iptables/ip6tables rules hand packets to an NFQUEUE; exitblock reads each packet's \
            source address, looks it up in the exit set loaded from one or more lists, and answers \
            ACCEPT or DROP. Start it with `exitblock run`, then add the rule, for example:

              iptables  -I FORWARD -j NFQUEUE --queue-num 0 --queue-bypass
              ip6tables -I FORWARD -j NFQUEUE --queue-num 0 --queue-bypass
            """,
        subcommands: [RunCommand.self, CheckCommand.self, ListCommand.self, StatsCommand.self, TopCommand.self]
    )
}
