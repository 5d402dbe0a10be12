import Foundation

/// What the recall report to the sender says: per recipient, whether the recall came in time.
public struct RecallReportDetails: Sendable {
    /// The service's own mailbox; it sends the report.
    public var serviceAddress: MailAddress
    /// The sender, who receives the report.
    public var sender: MailAddress
    /// The subject of the withdrawn message.
    public var originalSubject: String
    /// When the withdrawn message was sent.
    public var originalSentAt: Date
    /// The reason the sender gave, shown when given.
    public var reason: String?
    /// One row per affected recipient, in the order to show them.
    public var rows: [RecallReportRow]
    /// The language of the mail.
    public var locale: MailLocale
    /// The report's Message-ID.
    public var messageID: String
    /// The mail the report threads under (a gateway receipt), if any.
    public var inReplyTo: String?
    /// Whether a corrected version the revocation was asked for (in a reply not from the
    /// sender over a trusted path) was withheld; the report says so.
    public var correctionWithheld: Bool

    /// Creates the details; `messageID` defaults to a fresh one in the service's domain.
    public init(
        serviceAddress: MailAddress, sender: MailAddress, originalSubject: String, originalSentAt: Date,
        reason: String? = nil, rows: [RecallReportRow], locale: MailLocale = .en, messageID: String? = nil,
        inReplyTo: String? = nil, correctionWithheld: Bool = false
    ) {
        self.inReplyTo = inReplyTo
        self.correctionWithheld = correctionWithheld
        self.serviceAddress = serviceAddress
        self.sender = sender
        self.originalSubject = originalSubject
        self.originalSentAt = originalSentAt
        self.reason = reason
        self.rows = rows
        self.locale = locale
        self.messageID = messageID ?? MessageIDFactory.make(domain: serviceAddress.domain)
    }
}
