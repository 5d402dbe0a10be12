import Logging
import RetractCore

/// The CLI's logger: standard error only, so stdout stays the command's result, and quiet
/// (errors only; the command's own output says what happened) except for `serve`.
///
/// `RETRACT_LOG_FORMAT` is `text` (swift-log's stream format, the default) or `json` (one
/// object per line, `JSONLogHandler`); `RETRACT_LOG_LEVEL` (or the older `LOG_LEVEL`) is
/// one of swift-log's levels: trace, debug, info, notice, warning, error, critical.
enum CommandLogger {
    static func make(level: Logger.Level = .error) throws -> Logger {
        let format = Environment.value("RETRACT_LOG_FORMAT")?.lowercased() ?? "text"
        guard ["text", "json"].contains(format) else {
            throw RetractError.invalidInput(
                "RETRACT_LOG_FORMAT \(format.debugDescription) must be text or json")
        }
        var chosen = level
        for name in ["RETRACT_LOG_LEVEL", "LOG_LEVEL"] {
            guard let text = Environment.value(name) else { continue }
            guard let named = Logger.Level(rawValue: text.lowercased()) else {
                throw RetractError.invalidInput(
                    "\(name) \(text.debugDescription) must be one of trace, debug, info, notice, warning, error, critical")
            }
            chosen = named
            break
        }
        var logger = Logger(label: "retract") { label -> any LogHandler in
            format == "json" ? JSONLogHandler.standardError(label: label) : StreamLogHandler.standardError(label: label)
        }
        logger.logLevel = chosen
        return logger
    }
}
