/// Something the pre-send checks noticed about a draft.
public struct Finding: Codable, Sendable, Equatable {
    /// How much the finding matters.
    public enum Severity: String, Codable, Sendable {
        /// Likely a mistake; `strict` refuses to send.
        case warning
        /// Worth knowing, not a mistake (the list of external recipients).
        case note
    }

    /// Stable identifier: `missing_attachment`, `empty_subject`, `empty_body`,
    /// `duplicate_recipient`, `lookalike_domain`, `unrelated_domains`, `visible_externals`,
    /// `external_recipients` (docs/checks.md).
    public var code: String
    /// Warning or note.
    public var severity: Severity
    /// One line for the sender.
    public var message: String

    /// Creates a finding.
    public init(code: String, severity: Severity, message: String) {
        self.code = code
        self.severity = severity
        self.message = message
    }
}
