import Foundation

/// One recipient's line in a recall report.
public struct RecallReportRow: Sendable, Hashable {
    /// The recipient's address as the sender knows it.
    public var recipient: String
    /// `cancelled_before_delivery`, `revoked_before_open` or `revoked_after_open`.
    public var outcome: String
    /// When the recipient opened the message, if they did.
    public var openedAt: Date?
    /// The notice sent to them: `withdrawal`, `correction` or `none`.
    public var notice: String

    /// The outcomes a report can show, as the CLI and API spell them.
    public static let outcomes: Set<String> = [
        "cancelled_before_delivery", "revoked_before_open", "revoked_after_open",
    ]
    /// The notices a report can show, as the CLI and API spell them.
    public static let notices: Set<String> = ["withdrawal", "correction", "none"]

    /// Creates a row; `MailTemplates.recallReport` rejects outcomes and notices it does not know.
    public init(recipient: String, outcome: String, openedAt: Date? = nil, notice: String) {
        self.recipient = recipient
        self.outcome = outcome
        self.openedAt = openedAt
        self.notice = notice
    }
}
