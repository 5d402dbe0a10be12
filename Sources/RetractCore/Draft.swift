import Foundation

/// What a sender asks Retract to send.
public struct Draft: Sendable {
    /// The sender, `addr` or `Name <addr>`.
    public var from: String
    /// Visible recipients.
    public var to: [String]
    /// Visible copy recipients.
    public var cc: [String]
    /// Hidden recipients: each gets a notification of their own, nobody else's names them.
    public var bcc: [String]
    /// The subject; it travels in the clear in the notification mail.
    public var subject: String
    /// The body text; it only ever leaves the vault sealed.
    public var body: String
    /// Files to attach.
    public var attachments: [URL]
    /// Link lifetime in seconds; nil takes the configured default.
    public var expiresIn: TimeInterval?
    /// Successful opens allowed per recipient; nil means no limit.
    public var maxViews: Int?
    /// The undo window in seconds; nil takes the configured default.
    public var delay: TimeInterval?
    /// Locale of the mails and pages: `en` or `zh-Hans`.
    public var locale: String
    /// Refuse to send when a pre-send check warns.
    public var strict: Bool
    /// Open only with a 6-digit code mailed to the recipient at that moment, so a forwarded
    /// link is useless without the recipient's mailbox.
    public var verify: Bool
    /// Set when `attachments` are staged uploads (`UploadStaging`'s format: a nonce, then the
    /// enciphered file) rather than plain files; nil for files as they are (the CLI).
    public var stagedUploads: UploadStaging?

    /// A draft with the defaults of `retract send`.
    public init(
        from: String, to: [String], cc: [String] = [], bcc: [String] = [], subject: String, body: String,
        attachments: [URL] = [], expiresIn: TimeInterval? = nil, maxViews: Int? = nil, delay: TimeInterval? = nil,
        locale: String = "en", strict: Bool = false, verify: Bool = false
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.subject = subject
        self.body = body
        self.attachments = attachments
        self.expiresIn = expiresIn
        self.maxViews = maxViews
        self.delay = delay
        self.locale = locale
        self.strict = strict
        self.verify = verify
    }
}
