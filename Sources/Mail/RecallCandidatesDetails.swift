import Foundation

/// What the mail to a sender says when an Outlook recall request matched several sealed
/// messages, so none was revoked: each candidate, with a manage link to revoke it by hand.
public struct RecallCandidatesDetails: Sendable {
    /// One message the recall may have meant.
    public struct Candidate: Sendable {
        /// When the gateway received it.
        public var sentAt: Date
        /// Who got a personal link for it.
        public var recipients: [String]
        /// A manage link that opens its page (a secret).
        public var manageLink: String
        /// Its vault id.
        public var vaultMessageID: String

        /// A candidate.
        public init(sentAt: Date, recipients: [String], manageLink: String, vaultMessageID: String) {
            self.sentAt = sentAt
            self.recipients = recipients
            self.manageLink = manageLink
            self.vaultMessageID = vaultMessageID
        }
    }

    /// The service's own mailbox; it sends the mail.
    public var serviceAddress: MailAddress
    /// The sender who recalled.
    public var sender: MailAddress
    /// The subject the recall named.
    public var subject: String
    /// The messages it matched, newest first.
    public var candidates: [Candidate]
    /// The language of the mail.
    public var locale: MailLocale
    /// The mail's Message-ID.
    public var messageID: String

    /// Creates the details; `messageID` defaults to a fresh one in the service's domain.
    public init(
        serviceAddress: MailAddress, sender: MailAddress, subject: String, candidates: [Candidate],
        locale: MailLocale = .en, messageID: String? = nil
    ) {
        self.serviceAddress = serviceAddress
        self.sender = sender
        self.subject = subject
        self.candidates = candidates
        self.locale = locale
        self.messageID = messageID ?? MessageIDFactory.make(domain: serviceAddress.domain)
    }
}
