import Foundation

/// Parses the durations users type: `30s`, `15m`, `12h`, `7d`, `2w`, or `0`.
public enum DurationText {
    /// The duration in seconds, or an error that shows the accepted forms.
    public static func seconds(_ text: String, option: String) throws(RetractError) -> TimeInterval {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "0" { return 0 }
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        guard let unit = trimmed.last, let factor = units[unit], let value = Int(trimmed.dropLast()), value >= 0,
            value <= 36_500 * 86_400 / Int(factor)
        else {
            throw .invalidInput("\(option) \(text.debugDescription) is not a duration; use a number and a unit, like 30s, 15m, 12h, 7d or 2w")
        }
        return TimeInterval(value) * factor
    }
}
