import Foundation

/// What a withdrawal or correction notice to one recipient says.
public struct NoticeDetails: Sendable {
    /// The service's own mailbox; its address becomes `From`.
    public var serviceAddress: MailAddress
    /// The person who withdrew the message; their name labels `From`, they are `Reply-To`.
    public var sender: MailAddress
    /// The one recipient this notice goes to.
    public var recipient: MailAddress
    /// The subject of the withdrawn message.
    public var originalSubject: String
    /// When the withdrawn message was sent.
    public var originalSentAt: Date
    /// When the recipient opened it; nil if they never did.
    public var openedAt: Date?
    /// The sender's reason, shown when given.
    public var reason: String?
    /// The recipient's personal link to a corrected replacement (correction notices only); must be http(s).
    public var replacementLink: String?
    /// The Message-ID of the original notification, for `In-Reply-To` and `References`.
    public var originalMessageID: String
    /// The language of the mail.
    public var locale: MailLocale
    /// The notice's own Message-ID.
    public var messageID: String

    /// Creates the details; `messageID` defaults to a fresh one in the service's domain.
    public init(
        serviceAddress: MailAddress, sender: MailAddress, recipient: MailAddress, originalSubject: String,
        originalSentAt: Date, openedAt: Date? = nil, reason: String? = nil, replacementLink: String? = nil,
        originalMessageID: String, locale: MailLocale = .en, messageID: String? = nil
    ) {
        self.serviceAddress = serviceAddress
        self.sender = sender
        self.recipient = recipient
        self.originalSubject = originalSubject
        self.originalSentAt = originalSentAt
        self.openedAt = openedAt
        self.reason = reason
        self.replacementLink = replacementLink
        self.originalMessageID = originalMessageID
        self.locale = locale
        self.messageID = messageID ?? MessageIDFactory.make(domain: serviceAddress.domain)
    }
}
