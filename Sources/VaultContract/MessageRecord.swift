import Foundation

/// One sealed message: only the metadata the service needs without any link.
///
/// The subject is sealed under the master key (`sealedSubject`), so the database file alone
/// reveals no subject; the service can still read it back to write notices and reports.
public struct MessageRecord: Codable, Sendable, Equatable {
    /// Lower-case hex of the 16-byte message id.
    public var id: String
    /// The sender's address.
    public var sender: String
    /// The sender's display name, when one was given.
    public var senderName: String?
    /// The notification subject sealed under the master key `subjectKid`.
    public var sealedSubject: Data
    /// Id of the master key that seals the subject.
    public var subjectKid: String
    /// Locale of the mails and pages (`en`, `zh-Hans`).
    public var locale: String
    /// When the message was sealed.
    public var createdAt: Date
    /// After this instant no link opens.
    public var expiresAt: Date?
    /// Successful opens allowed per recipient; nil means no limit.
    public var maxViews: Int?
    /// Notifications are held until this instant (the undo window).
    public var deliverAfter: Date
    /// Number of sealed parts: the envelope plus one per attachment.
    public var partCount: Int
    /// The message this one corrects, when it was sent as a replacement.
    public var supersedes: String?
    /// Whether a grant opens only with a 6-digit code mailed to its recipient.
    public var verify: Bool
    /// Where the message came from: `gateway` for mail the SMTP gateway received; nil for
    /// the CLI, the API and the web app.
    public var origin: String?

    /// Creates a record; every field is stored as given.
    public init(
        id: String, sender: String, senderName: String?, sealedSubject: Data, subjectKid: String, locale: String,
        createdAt: Date, expiresAt: Date?, maxViews: Int?, deliverAfter: Date, partCount: Int, supersedes: String? = nil,
        verify: Bool = false, origin: String? = nil
    ) {
        self.id = id
        self.sender = sender
        self.senderName = senderName
        self.sealedSubject = sealedSubject
        self.subjectKid = subjectKid
        self.locale = locale
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.maxViews = maxViews
        self.deliverAfter = deliverAfter
        self.partCount = partCount
        self.supersedes = supersedes
        self.verify = verify
        self.origin = origin
    }
}
