import Foundation

/// What the verification mail to one recipient says: the 6-digit code that unlocks a message
/// sent with `verify`, who sent that message, and how long the code lives.
///
/// The code travels only in this mail (and, sealed, in the outbox until delivery); it never
/// goes into a header, the subject, or a log line.
public struct VerificationDetails: Sendable {
    /// The service's own mailbox; the mail comes from it, labelled "Retract".
    public var serviceAddress: MailAddress
    /// The sender of the sealed message, named so the recipient knows which message asks.
    public var sender: MailAddress
    /// The recipient of the grant: the only address a code ever goes to.
    public var recipient: MailAddress
    /// The six digits.
    public var code: String
    /// When the code stops working.
    public var expiresAt: Date
    /// How many minutes the code lives, for the text.
    public var validMinutes: Int
    /// The language of the mail.
    public var locale: MailLocale
    /// The mail's Message-ID.
    public var messageID: String

    /// Creates the details; `messageID` defaults to a fresh one in the service's domain.
    public init(
        serviceAddress: MailAddress, sender: MailAddress, recipient: MailAddress, code: String, expiresAt: Date,
        validMinutes: Int, locale: MailLocale = .en, messageID: String? = nil
    ) {
        self.serviceAddress = serviceAddress
        self.sender = sender
        self.recipient = recipient
        self.code = code
        self.expiresAt = expiresAt
        self.validMinutes = validMinutes
        self.locale = locale
        self.messageID = messageID ?? MessageIDFactory.make(domain: serviceAddress.domain)
    }
}
