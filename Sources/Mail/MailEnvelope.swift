/// The SMTP envelope of one delivery: who bounces go to and who actually receives it.
///
/// It is separate from the headers on purpose: Bcc recipients are in the envelope only.
public struct MailEnvelope: Sendable, Hashable {
    /// The reverse path (`MAIL FROM`), usually the service address.
    public var mailFrom: String
    /// The forward paths (`RCPT TO`).
    public var recipients: [String]

    /// Creates an envelope.
    public init(mailFrom: String, recipients: [String]) {
        self.mailFrom = mailFrom
        self.recipients = recipients
    }
}
