import Foundation

/// What a sender asks when taking a message back.
public struct RevokeRequest: Sendable {
    /// Who gets a notice about the revocation.
    public enum NoticePolicy: String, Sendable, CaseIterable {
        /// Withdrawal notices to those who never opened it, correction notices to those who did.
        case all
        /// Correction notices only to those who opened it.
        case opened
        /// Nobody.
        case none
    }

    /// A corrected version, sealed and sent as a new message to the recipients revoked now.
    public struct Replacement: Sendable {
        /// Its subject; nil keeps the original subject.
        public var subject: String?
        /// Its body.
        public var body: String
        /// Its attachments.
        public var attachments: [URL]

        /// A replacement.
        public init(subject: String? = nil, body: String, attachments: [URL] = []) {
            self.subject = subject
            self.body = body
            self.attachments = attachments
        }
    }

    /// The message.
    public var messageID: String
    /// Recipients to revoke; empty means all of them.
    public var recipients: [String]
    /// Why, in the sender's words; it goes into every notice.
    public var reason: String?
    /// Who gets a notice.
    public var notify: NoticePolicy
    /// The corrected version, if any.
    public var replacement: Replacement?
    /// Whether the sender is mailed the recall report (`--notify-sender report`, the
    /// default) or not (`none`).
    public var notifySender: Bool
    /// Whether a corrected version was asked for but withheld (a reply by someone the gateway
    /// cannot vouch for); the recall report tells the sender.
    public var correctionWithheld = false

    /// A revocation request.
    public init(
        messageID: String, recipients: [String] = [], reason: String? = nil, notify: NoticePolicy = .all,
        replacement: Replacement? = nil, notifySender: Bool = true
    ) {
        self.notifySender = notifySender
        self.messageID = messageID
        self.recipients = recipients
        self.reason = reason
        self.notify = notify
        self.replacement = replacement
    }
}
