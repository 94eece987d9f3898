import ArgumentParser
import Logging

/// `--log-level`: swift-log's levels by name.
enum LogLevelArgument: String, ExpressibleByArgument, CaseIterable, Sendable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }

    /// Sends every log message to stderr from now on, at `level` and above. Call once, first.
    func bootstrap() {
        let level = self.level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
