import Foundation

/// Date formats used in mail, all in UTC and independent of the machine's locale data.
public enum MailDateFormat {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let shortMonths = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    private static let months = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        return calendar
    }()

    private struct Parts {
        var year, month, day, weekday, hour, minute, second: Int
    }

    private static func parts(_ date: Date) -> Parts {
        let c = Self.utcCalendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute, .second], from: date)
        return Parts(
            year: c.year ?? 1970, month: c.month ?? 1, day: c.day ?? 1, weekday: c.weekday ?? 1, hour: c.hour ?? 0,
            minute: c.minute ?? 0, second: c.second ?? 0)
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    /// The RFC 5322 `date-time` of a `Date:` header: `Mon, 3 Mar 2025 14:05:09 +0000`.
    public static func rfc5322(_ date: Date) -> String {
        let p = Self.parts(date)
        let weekday = Self.weekdays[(p.weekday - 1) % 7]
        let month = Self.shortMonths[(p.month - 1) % 12]
        return "\(weekday), \(p.day) \(month) \(p.year) \(twoDigits(p.hour)):\(twoDigits(p.minute)):"
            + "\(twoDigits(p.second)) +0000"
    }

    /// A date for people reading a mail body, in UTC and saying so.
    ///
    /// English: `3 March 2025, 14:05 UTC`. Simplified Chinese: `2025年3月3日 14:05（UTC）`.
    static func body(_ date: Date, locale: MailLocale, seconds: Bool = false) -> String {
        let p = Self.parts(date)
        let time =
            "\(twoDigits(p.hour)):\(twoDigits(p.minute))" + (seconds ? ":\(twoDigits(p.second))" : "")
        switch locale {
        case .en:
            return "\(p.day) \(Self.months[(p.month - 1) % 12]) \(p.year), \(time) UTC"
        case .zhHans:
            return "\(p.year)年\(p.month)月\(p.day)日 \(time)（UTC）"
        }
    }
}
