import Foundation

/// What the receipt to a sender says after the SMTP gateway sealed their message: who got a
/// personal link and who got the mail directly.
public struct GatewayReceiptDetails: Sendable {
    /// The service's own mailbox; its address becomes `From` (labelled "Retract").
    public var serviceAddress: MailAddress
    /// The sender, the receipt's one recipient.
    public var sender: MailAddress
    /// The message's subject (seal tag removed).
    public var subject: String
    /// When the gateway accepted it.
    public var sentAt: Date
    /// The vault message id (`retract status ID`).
    public var vaultMessageID: String
    /// Recipients who got a notification with a personal link.
    public var linkRecipients: [String]
    /// Recipients who got the original directly.
    public var directRecipients: [String]
    /// The sender's manage link (opens the message's page without a password); a secret.
    public var manageLink: String?
    /// The receipt's `Reply-To`: the recall address a reply to which revokes (a secret).
    public var recallAddress: MailAddress?
    /// The original's Message-ID, so the receipt threads under the sender's sent mail.
    public var originalMessageID: String?
    /// Until when the notifications wait (the gateway's hold), so the sender can still
    /// cancel; nil when they leave at once.
    public var heldUntil: Date?
    /// What the pre-send checks found (missing attachment, look-alike domain, …), one line each.
    public var findings: [String]
    /// The language of the receipt.
    public var locale: MailLocale
    /// The receipt's Message-ID.
    public var messageID: String

    /// Creates the details; `messageID` defaults to a fresh one in the service's domain.
    public init(
        serviceAddress: MailAddress, sender: MailAddress, subject: String, sentAt: Date, vaultMessageID: String,
        linkRecipients: [String], directRecipients: [String], manageLink: String? = nil,
        recallAddress: MailAddress? = nil,
        originalMessageID: String? = nil, heldUntil: Date? = nil, findings: [String] = [],
        locale: MailLocale = .en, messageID: String? = nil
    ) {
        self.serviceAddress = serviceAddress
        self.sender = sender
        self.subject = subject
        self.sentAt = sentAt
        self.vaultMessageID = vaultMessageID
        self.linkRecipients = linkRecipients
        self.directRecipients = directRecipients
        self.manageLink = manageLink
        self.recallAddress = recallAddress
        self.originalMessageID = originalMessageID
        self.heldUntil = heldUntil
        self.findings = findings
        self.locale = locale
        self.messageID = messageID ?? MessageIDFactory.make(domain: serviceAddress.domain)
    }
}
