/// A reply on BIRD's control socket (the protocol birdc speaks): lines `NNNN-text` (more of
/// the reply follows), ` text` (a continuation of the line before), and a last line `NNNN text`.
/// Codes 0xxx report success (0001 the welcome; `configure`: 0003 Reconfigured, 0004
/// Reconfiguration in progress, 0018 Reconfiguration confirmed, 0019 Nothing to do, 0024
/// queued behind one in progress), 1xxx-2xxx data, 8xxx and 9xxx errors.
public struct BIRDReply: Sendable, Equatable {
    /// The code of the last line.
    public var code: Int
    /// Every line's text, codes taken off.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// The reply at the start of `text` and where it ends; nil while its last line has not come.
    static func parse(_ text: Substring) -> (reply: BIRDReply, rest: Substring)? {
        var lines: [String] = []
        var rest = text
        while let newline = rest.firstIndex(of: "\n") {
            let line = rest[..<newline]
            rest = rest[rest.index(after: newline)...]
            if line.first == " " {
                lines.append(String(line.dropFirst()))
                continue
            }
            let digits = line.prefix(4)
            guard digits.count == 4, let code = Int(digits), line.count >= 5 else {
                lines.append(String(line))
                continue
            }
            let separator = line[line.index(line.startIndex, offsetBy: 4)]
            lines.append(String(line.dropFirst(5)))
            if separator == " " { return (BIRDReply(code: code, lines: lines), rest) }
        }
        return nil
    }

    /// BIRD took the configuration (or had nothing to change).
    public var tookConfiguration: Bool { [3, 4, 18, 19, 24].contains(code) }

    /// An 8xxx or 9xxx error.
    public var isError: Bool { code >= 8000 }

    public var text: String { lines.joined(separator: "\n") }
}
