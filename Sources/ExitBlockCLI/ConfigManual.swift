import ExitBlockConfiguration

/// The manual page exitblock.toml(5), rendered from the configuration schema (the tables
/// and keys `config check` validates against), so the page names exactly the keys this
/// version knows. Plain man(7) macros; every hyphen is written `\-` so that keys and
/// options copy as typed.
struct ConfigManual {
    var schema: ConfigSchema
    /// The version line of the page's footer ("exitblock 0.1.0").
    var source: String

    /// What each table configures, in the page's words.
    static let tableText: [String: String] = [
        "run": """
        Settings of exitblock run (see exitblock.run(8)). Keys at the top level of the \
        file, before any table, belong to this table.
        """,
        "rules": """
        Settings of exitblock rules install (see exitblock.rules.install(8)), read by \
        exitblock rules install --config FILE.
        """,
        "bgp": """
        Settings of exitblock bgp (see exitblock.bgp(8)). It also takes the top-level \
        keys it knows (list, allow and the list source keys) unless this table sets them.
        """,
    ]

    /// NAME, SYNOPSIS and DESCRIPTION: the file's rules.
    var header: String {
        """
        .TH EXITBLOCK.TOML 5 "" "\(Self.escape(source))" "File Formats"
        .SH NAME
        exitblock.toml \\- configuration file of exitblock
        .SH SYNOPSIS
        .I /etc/exitblock/exitblock.toml
        .SH DESCRIPTION
        The configuration file of
        .BR exitblock (8)
        is TOML. It is read by
        .B exitblock run \\-\\-config FILE
        (the systemd unit passes /etc/exitblock/exitblock.toml),
        .B exitblock rules install \\-\\-config FILE
        and
        .BR "exitblock bgp \\-\\-config FILE" ;
        there is no default file.
        .PP
        Each table holds the settings of one command. A key is the long option name of that
        command without the dashes, and the tables and keys below are read from the commands'
        own option definitions, so every option is a key. An option that can be repeated
        takes an array (or one value); a flag takes true or false (a flag with an inverse, such
        as gso, passes its inverse with false); every other option takes one string or number.
        An option given on the command line replaces the file's value for that key.
        .PP
        Unknown tables, unknown keys, values of the wrong type and values the command refuses
        are errors naming the file, the line and the key.
        .B exitblock config check FILE
        reports them, and prints every setting with its value and where it came from (the
        file and its line, or the default). Changes take effect when the command starts again;
        SIGHUP makes exitblock run reload its lists, not this file.

        """
    }

    /// EXAMPLE, FILES and SEE ALSO.
    var footer: String {
        """
        .SH EXAMPLE
        .nf
        [run]
        queue = ["0"]
        list = ["https://check.torproject.org/torbulkexitlist"]
        metrics\\-listen = "127.0.0.1:9477"

        [rules]
        queue = "0"
        .fi
        .SH FILES
        .TP
        .I /etc/exitblock/exitblock.toml
        The file the package installs, every key of [run] with its default, commented.
        .SH SEE ALSO
        .BR exitblock (8),
        .BR exitblock.run (8),
        .BR exitblock.rules.install (8),
        .BR exitblock.bgp (8),
        .BR exitblock.config.check (8)

        """
    }

    /// The whole page.
    var text: String {
        var page = header
        for table in schema.tables {
            page += ".SH \"[\(table.name)] TABLE\"\n"
            page +=
                (Self.tableText[table.name].map(Self.escape)
                    ?? "Settings of exitblock \(table.path.joined(separator: " ")).") + "\n"
            for key in table.keys { page += Self.entry(key) }
        }
        return page + footer
    }

    /// One key: its name, value type and default, then what it does.
    static func entry(_ key: ConfigSchema.Key) -> String {
        var line = ".TP\n.B \(escape(key.name))\n"
        var facts = [valueType(key)]
        if let text = key.defaultText, !text.isEmpty { facts.append("default: " + text) }
        facts.append("command line: " + commandLine(key))
        line += escape(facts.joined(separator: "; ")) + ".\n.br\n"
        if let abstract = key.abstract, !abstract.isEmpty { line += escape(abstract) + "\n" }
        return line
    }

    /// The TOML type a key takes.
    static func valueType(_ key: ConfigSchema.Key) -> String {
        let name = key.valueName.map { " <\($0)>" } ?? ""
        switch key.kind {
        case .value: return "a string or number" + name
        case .values: return "an array of strings or numbers" + name + ", or one"
        case .flag, .toggle: return "boolean"
        case .count: return "integer"
        }
    }

    /// How the same setting is given on the command line.
    static func commandLine(_ key: ConfigSchema.Key) -> String {
        if case .toggle(let off) = key.kind { return "\(key.option) / \(off)" }
        return key.option
    }

    /// Text as man(7) shows it literally: backslashes and hyphens escaped, and no line
    /// starting with a control character.
    static func escape(_ text: String) -> String {
        let body = text.replacing("\\", with: "\\e").replacing("-", with: "\\-")
        return
            body.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.hasPrefix(".") || line.hasPrefix("'") ? "\\&" + line : String(line)
            }
            .joined(separator: "\n")
    }
}
