import Logging

/// The CLI's logger: standard error only, so stdout stays the command's result, and quiet
/// (errors only; the command's own output says what happened) except for `serve`.
enum CommandLogger {
    static func make(level: Logger.Level = .error) -> Logger {
        var logger = Logger(label: "retract") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Environment.value("LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? level
        return logger
    }
}
