import Foundation

/// One mail waiting in, or gone through, the outbox.
///
/// The RFC 5322 bytes are sealed under the master key while the mail waits (they hold a
/// personal link) and erased when it is delivered or cancelled; the row stays as the
/// delivery record.
public struct OutboxMailRecord: Codable, Sendable, Equatable {
    /// Why the mail exists.
    public enum Kind: String, Codable, Sendable {
        case notification, withdrawal, correction, report
        /// A recipient-verification code for a message sent with `verify`.
        case verification
        /// A copy of a message the SMTP gateway received, passed on unchanged (but for a
        /// `Received:` line) to one recipient in an internal domain.
        case passthrough
        /// The receipt to a sender after the SMTP gateway sealed their mail.
        case receipt
    }

    /// Where the mail is in its life.
    public enum State: String, Codable, Sendable {
        /// Waiting for its time (`not_before`) or for a worker.
        case queued
        /// Claimed by a worker and being handed to the transport.
        case sending
        /// The transport accepted it.
        case sent
        /// A temporary failure; it is tried again at `not_before`.
        case retrying
        /// A permanent failure, or temporary failures for longer than the retry limit.
        case failed
        /// Cancelled before delivery (its grant was revoked in the undo window).
        case cancelled
    }

    /// Random id; also the `.eml` file name of the file transport.
    public var id: String
    /// The message the mail is about.
    public var messageId: String
    /// The recipient's grant, when the mail is for one.
    public var grantId: Int64?
    /// Why the mail exists.
    public var kind: Kind
    /// SMTP envelope sender.
    public var mailFrom: String
    /// SMTP envelope recipient.
    public var recipient: String
    /// The Message-ID header of the mail.
    public var rfcMessageId: String
    /// The mail bytes sealed under master key `dataKid`; NULL once delivered or cancelled.
    public var sealedData: Data?
    /// Id of the master key that seals the data.
    public var dataKid: String
    /// Queue state.
    public var state: State
    /// Delivery attempts so far.
    public var attempts: Int
    /// Not to be delivered before this instant.
    public var notBefore: Date
    /// When the mail was queued.
    public var createdAt: Date
    /// When the transport accepted the mail.
    public var sentAt: Date?
    /// The last delivery error, for the sender and operator.
    public var lastError: String?
    /// When a worker claimed it (state `sending`).
    public var claimedAt: Date?
    /// The server's last reply line, e.g. `550 5.1.1 no such user`.
    public var lastReply: String?

    /// Creates a queued mail.
    public init(
        id: String, messageId: String, grantId: Int64?, kind: Kind, mailFrom: String, recipient: String,
        rfcMessageId: String, sealedData: Data, dataKid: String, notBefore: Date, createdAt: Date
    ) {
        self.id = id
        self.messageId = messageId
        self.grantId = grantId
        self.kind = kind
        self.mailFrom = mailFrom
        self.recipient = recipient
        self.rfcMessageId = rfcMessageId
        self.sealedData = sealedData
        self.dataKid = dataKid
        self.state = .queued
        self.attempts = 0
        self.notBefore = notBefore
        self.createdAt = createdAt
        self.sentAt = nil
        self.lastError = nil
        self.claimedAt = nil
        self.lastReply = nil
    }
}
