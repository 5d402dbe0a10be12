import Foundation

/// What the notification mail to one recipient says: who sent what, and the personal link.
public struct NotificationDetails: Sendable {
    /// The service's own mailbox (for example `retract@localhost`); its address becomes `From`.
    public var serviceAddress: MailAddress
    /// The person who sent the sealed message; their name labels `From`, they are `Reply-To`.
    public var sender: MailAddress
    /// The one recipient this notification goes to.
    public var recipient: MailAddress
    /// The sender's subject, used unchanged as the notification's subject.
    public var subject: String
    /// The recipient's personal link, `PUBLIC_URL/m/<token>#<link key>`; must be http(s).
    public var link: String
    /// When the sender sent the message.
    public var sentAt: Date
    /// When the link stops working, if it expires.
    public var expiresAt: Date?
    /// How many attachments the sealed message carries.
    public var attachmentCount: Int
    /// The language of the mail.
    public var locale: MailLocale
    /// The notification's Message-ID, assigned in advance so notices can thread under it.
    public var messageID: String

    /// Creates the details; `messageID` defaults to a fresh one in the service's domain.
    public init(
        serviceAddress: MailAddress, sender: MailAddress, recipient: MailAddress, subject: String, link: String,
        sentAt: Date, expiresAt: Date? = nil, attachmentCount: Int = 0, locale: MailLocale = .en,
        messageID: String? = nil
    ) {
        self.serviceAddress = serviceAddress
        self.sender = sender
        self.recipient = recipient
        self.subject = subject
        self.link = link
        self.sentAt = sentAt
        self.expiresAt = expiresAt
        self.attachmentCount = attachmentCount
        self.locale = locale
        self.messageID = messageID ?? MessageIDFactory.make(domain: serviceAddress.domain)
    }
}
