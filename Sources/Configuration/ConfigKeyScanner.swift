/// Scans a TOML document for where its keys are set (see `ConfigKeyLines`): table headers and
/// keys (bare, quoted, dotted) at the start of a statement, skipping comments, strings
/// (multi-line ones too) and the insides of arrays and inline tables. One pass, by character.
struct ConfigKeyScanner {
    private let characters: [Unicode.Scalar]
    private var index = 0
    private var lineNumber = 1
    /// The current table's key path.
    private var table: [String] = []
    /// Open `[` and `{` of values.
    private var depth = 0
    private var statementStart = true
    /// "table.key" -> line (1-based).
    private var lines: [String: Int] = [:]

    init(_ text: String) {
        characters = Array(text.unicodeScalars)
    }

    /// Where each key is set: "table.key" -> line number.
    mutating func scan() -> [String: Int] {
        while index < characters.count { step(characters[index]) }
        return lines
    }

    /// Reads what starts with `character` at `index`.
    private mutating func step(_ character: Unicode.Scalar) {
        switch character {
        case "\n":
            lineNumber += 1
            if depth == 0 { statementStart = true }
            index += 1
        case " ", "\t", "\r":
            index += 1
        case "#":
            while index < characters.count, characters[index] != "\n" { index += 1 }
        case "\"", "'":
            if atStatementStart { readKey() } else { skipString() }
        case "[" where atStatementStart:
            readTableHeader()
        case "[", "{":
            depth += 1
            index += 1
        case "]", "}":
            depth = max(0, depth - 1)
            index += 1
        default:
            if atStatementStart { readKey() } else { index += 1 }
        }
    }

    private var atStatementStart: Bool { statementStart && depth == 0 }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < characters.count ? characters[index + offset] : nil
    }

    /// A key at the start of a statement: its line is recorded.
    private mutating func readKey() {
        let path = readKeyPath(until: "=")
        lines[(table + path).joined(separator: ".")] = lineNumber
        statementStart = false
    }

    /// `[table]` or `[[array.of.tables]]`: the table that the next keys belong to.
    private mutating func readTableHeader() {
        let arrayOfTables = peek(1) == "["
        index += arrayOfTables ? 2 : 1
        table = readKeyPath(until: "]")
        lines[table.joined(separator: ".")] = lineNumber
        while index < characters.count, characters[index] == "]" { index += 1 }
        statementStart = false
    }

    /// Skips a string starting at `index`; counts the newlines inside it.
    private mutating func skipString() {
        let quote = characters[index]
        let triple = peek(1) == quote && peek(2) == quote
        index += triple ? 3 : 1
        while index < characters.count {
            let character = characters[index]
            if character == "\\" && quote == "\"" {
                index += 2
                continue
            }
            if character == "\n" {
                lineNumber += 1
                if !triple { return }
            }
            if character == quote && (!triple || (peek(1) == quote && peek(2) == quote)) {
                index += triple ? 3 : 1
                // A closing run may be longer than three ("""" ends with one quote inside).
                while triple && peek() == quote { index += 1 }
                return
            }
            index += 1
        }
    }

    /// Reads a key path (bare or quoted parts joined by dots) up to `terminator`.
    private mutating func readKeyPath(until terminator: Unicode.Scalar) -> [String] {
        var parts: [String] = []
        var current = ""
        while index < characters.count, characters[index] != terminator, characters[index] != "\n" {
            let character = characters[index]
            if character == "\"" || character == "'" {
                let start = index + 1
                skipString()
                current += String(String.UnicodeScalarView(characters[start..<max(start, index - 1)]))
                continue
            }
            if character == "." {
                parts.append(current)
                current = ""
            } else if character != " " && character != "\t" {
                current.unicodeScalars.append(character)
            }
            index += 1
        }
        parts.append(current)
        return parts
    }
}
