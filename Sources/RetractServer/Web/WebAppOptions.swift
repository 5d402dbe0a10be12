import Foundation

/// Settings of the sender web app that an operator may change.
public struct WebAppOptions: Sendable {
    /// Largest compose request accepted, attachments included (`RETRACT_MAX_UPLOAD`, bytes or
    /// with a K/M/G suffix); a larger one is refused with 413 and nothing is kept.
    public var maxUploadBytes: Int
    /// Where uploaded attachments wait between the check and the confirmed send; nil puts
    /// them in `<data-dir>/web-uploads`.
    public var uploadDirectory: URL?
    /// How long an upload waits for its confirmation before it is deleted.
    public var uploadLifetime: TimeInterval

    /// Options with the given values; the defaults suit one small office.
    public init(maxUploadBytes: Int = 100 << 20, uploadDirectory: URL? = nil, uploadLifetime: TimeInterval = 3600) {
        self.maxUploadBytes = maxUploadBytes
        self.uploadDirectory = uploadDirectory
        self.uploadLifetime = uploadLifetime
    }

    /// The defaults, with `RETRACT_MAX_UPLOAD` applied when it is set and readable.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        -> WebAppOptions
    {
        var options = WebAppOptions()
        if let text = environment["RETRACT_MAX_UPLOAD"], let bytes = parseSize(text) {
            options.maxUploadBytes = bytes
        }
        return options
    }

    /// `1048576`, `512K`, `25M`, `1G` → bytes; nil for anything else.
    static func parseSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let factors: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = trimmed.last, let factor = factors[last], let value = Int(trimmed.dropLast()), value > 0 {
            return value.multipliedReportingOverflow(by: factor).overflow ? nil : value * factor
        }
        return Int(trimmed).flatMap { $0 > 0 ? $0 : nil }
    }
}
