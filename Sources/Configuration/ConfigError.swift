/// A config file problem: the file, the line and the key when known, and what is wrong.
struct ConfigError: Error, Equatable, CustomStringConvertible {
    var file: String
    var line: Int?
    var key: String?
    var message: String

    init(file: String, line: Int? = nil, key: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// "FILE:LINE: KEY: MESSAGE", parts left out when unknown.
    var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += "\(key): " }
        return text + message
    }
}

/// Several config problems, reported together (one per line).
struct ConfigErrors: Error, CustomStringConvertible {
    var errors: [ConfigError]

    var description: String { errors.map(\.description).joined(separator: "\n") }
}
