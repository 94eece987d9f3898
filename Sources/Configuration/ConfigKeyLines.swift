/// Where each key of a TOML document is set: "table.key" -> line number (1-based). The
/// TOML library reports positions only for syntax errors, so the text is scanned for them:
/// table headers, keys (bare, quoted, dotted) at the start of a statement, skipping
/// comments, strings (multi-line ones too) and the insides of arrays and inline tables.
public struct ConfigKeyLines {
    public private(set) var lines: [String: Int] = [:]

    /// The line of `key` in `table` ("" for the top level).
    public func line(table: String, key: String) -> Int? {
        lines[table.isEmpty ? key : table + "." + key]
    }

    public init(scanning text: String) {
        var table: [String] = []
        var depth = 0  // open [ and { of values
        var statementStart = true
        var lineNumber = 1
        let characters = Array(text.unicodeScalars)
        var index = 0

        func peek(_ offset: Int = 0) -> Unicode.Scalar? {
            index + offset < characters.count ? characters[index + offset] : nil
        }
        /// Skips a string starting at `index`; counts the newlines inside it.
        func skipString() {
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
        func readKeyPath(until terminator: Unicode.Scalar) -> [String] {
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

        while index < characters.count {
            let character = characters[index]
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
                if statementStart && depth == 0 {
                    let path = readKeyPath(until: "=")
                    lines[(table + path).joined(separator: ".")] = lineNumber
                    statementStart = false
                } else {
                    skipString()
                }
            case "[" where statementStart && depth == 0:
                let arrayOfTables = peek(1) == "["
                index += arrayOfTables ? 2 : 1
                table = readKeyPath(until: "]")
                lines[table.joined(separator: ".")] = lineNumber
                while index < characters.count, characters[index] == "]" { index += 1 }
                statementStart = false
            case "[", "{":
                depth += 1
                index += 1
            case "]", "}":
                depth = max(0, depth - 1)
                index += 1
            default:
                if statementStart && depth == 0 {
                    let path = readKeyPath(until: "=")
                    lines[(table + path).joined(separator: ".")] = lineNumber
                    statementStart = false
                } else {
                    index += 1
                }
            }
        }
    }
}
