import Foundation

/// Parses and bounds the durations users give: `30s`, `15m`, `12h`, `7d`, `2w`, `0`, and
/// (where a caller allows it) a bare number of seconds.
///
/// Every input path (CLI flags, environment settings, API JSON numbers and strings,
/// multipart and web form fields) goes through here, so none can hand the core a duration
/// beyond what it is for: an expiry in the year 506713 once became an empty date column
/// that stopped the reader for every message.
public enum DurationText {
    /// What a duration is for, and the range it must fall in.
    public struct Bounds: Sendable, Equatable {
        /// The shortest accepted duration, in seconds.
        public var minimum: TimeInterval
        /// The longest accepted duration, in seconds.
        public var maximum: TimeInterval
        /// `maximum` as people say it, for the error message ("10 years").
        public var maximumText: String
        /// `minimum` as people say it, when it is not 0.
        public var minimumText: String

        /// Bounds from `minimum` to `maximum` seconds, each also as people say it.
        public init(minimum: TimeInterval, maximum: TimeInterval, maximumText: String, minimumText: String) {
            self.minimum = minimum
            self.maximum = maximum
            self.maximumText = maximumText
            self.minimumText = minimumText
        }

        /// A link's lifetime (`--expires`, `expires`): 1 minute to 10 years.
        public static let expiry = Bounds(
            minimum: 60, maximum: 3_650 * 86_400, maximumText: "10 years (3650d)", minimumText: "1 minute")
        /// An undo window (`--delay`, `delay`, `RETRACT_SEND_DELAY`): 0 to 30 days.
        public static let delay = Bounds(minimum: 0, maximum: 30 * 86_400, maximumText: "30 days (30d)", minimumText: "0")
        /// An operator's setting (retries, retention): 0 to 10 years.
        public static let setting = Bounds(
            minimum: 0, maximum: 3_650 * 86_400, maximumText: "10 years (3650d)", minimumText: "0")

        /// Throws unless `seconds` lies in the bounds; `option` names the field in the error.
        public func check(_ seconds: TimeInterval, option: String) throws(RetractError) -> TimeInterval {
            guard seconds.isFinite, seconds >= minimum else {
                throw .invalidInput("\(option) must be at least \(minimumText)")
            }
            guard seconds <= maximum else {
                throw .invalidInput("\(option) must be at most \(maximumText)")
            }
            return seconds
        }
    }

    /// The duration in seconds, or an error that shows the accepted forms or the bound.
    ///
    /// `bareSeconds` also takes a plain whole number as seconds (the API's unit-less form).
    public static func seconds(
        _ text: String, option: String, bounds: Bounds = .setting, bareSeconds: Bool = false
    ) throws(RetractError) -> TimeInterval {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard trimmed.unicodeScalars.allSatisfy({ $0.isASCII }), trimmed.count <= 24 else {
            throw notADuration(text, option: option)
        }
        if trimmed == "0" { return try bounds.check(0, option: option) }
        if bareSeconds, let value = Int(trimmed) {
            guard value >= 0 else { throw notADuration(text, option: option) }
            return try bounds.check(TimeInterval(value), option: option)
        }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        guard let unit = trimmed.last, let factor = units[unit], let value = Int(trimmed.dropLast()), value >= 0
        else { throw notADuration(text, option: option) }
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw .invalidInput("\(option) must be at most \(bounds.maximumText)") }
        return try bounds.check(TimeInterval(product), option: option)
    }

    /// A number of seconds given as a number (API JSON), checked like text.
    public static func seconds(number: Double, option: String, bounds: Bounds) throws(RetractError) -> TimeInterval {
        guard number.isFinite, number >= 0, number.rounded() == number else {
            throw .invalidInput("\(option) must be a whole, non-negative number of seconds")
        }
        return try bounds.check(number, option: option)
    }

    private static func notADuration(_ text: String, option: String) -> RetractError {
        .invalidInput(
            "\(option) \(String(text.prefix(40)).debugDescription) is not a duration; use a number and a unit, like 30s, 15m, 12h, 7d or 2w")
    }
}
