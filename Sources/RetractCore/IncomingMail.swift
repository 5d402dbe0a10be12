import Foundation

/// A message the SMTP gateway received, with the policy's decision per envelope recipient:
/// what `RetractService.acceptIncomingMail(_:headers:)` commits.
public struct IncomingMail: Sendable {
    /// One envelope recipient and what happens to its copy.
    public struct Recipient: Sendable, Equatable {
        /// The forward path (`RCPT TO`).
        public var address: String
        /// Sealed into the vault (a notification with a link), or passed on unchanged.
        public var sealed: Bool

        /// A recipient and its decision.
        public init(address: String, sealed: Bool) {
            self.address = address
            self.sealed = sealed
        }
    }

    /// The message as received (CR LF line ends, dot-stuffing removed); read, never moved.
    public var file: URL
    /// The reverse path (`MAIL FROM`); empty for the null sender. Pass-through copies keep it.
    public var envelopeSender: String
    /// The sender account the message is filed under (already checked and created).
    public var sender: String
    /// The envelope recipients, in order.
    public var recipients: [Recipient]
    /// The subject the notifications and the reader show: the original's, seal tag removed.
    public var subject: String
    /// The trace field prepended to every pass-through copy, `Received: …` on one line
    /// (no CR LF; at most 998 octets).
    public var traceField: String
    /// The seal tag to take out of the original's own Subject before it is sealed or passed
    /// on (nil when the subject carries none).
    public var removingTag: String?

    /// Describes a received message.
    public init(
        file: URL, envelopeSender: String, sender: String, recipients: [Recipient], subject: String, traceField: String,
        removingTag: String? = nil
    ) {
        self.removingTag = removingTag
        self.file = file
        self.envelopeSender = envelopeSender
        self.sender = sender
        self.recipients = recipients
        self.subject = subject
        self.traceField = traceField
    }
}

/// What `acceptIncomingMail` committed.
public struct IncomingMailReceipt: Sendable, Equatable {
    /// The vault message the mail is filed under.
    public var messageID: String
    /// The recipients who get a notification with a personal link, with their links.
    public var sealed: [(address: String, link: String)]
    /// The recipients who get the original.
    public var passedThrough: [String]

    /// A receipt (also what the gateway reports for a handled recall request).
    public init(messageID: String, sealed: [(address: String, link: String)], passedThrough: [String]) {
        self.messageID = messageID
        self.sealed = sealed
        self.passedThrough = passedThrough
    }

    /// Equal when the message and every recipient and link are.
    public static func == (lhs: IncomingMailReceipt, rhs: IncomingMailReceipt) -> Bool {
        lhs.messageID == rhs.messageID && lhs.passedThrough == rhs.passedThrough
            && lhs.sealed.map(\.address) == rhs.sealed.map(\.address)
            && lhs.sealed.map(\.link) == rhs.sealed.map(\.link)
    }
}
