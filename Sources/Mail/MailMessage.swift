import Foundation

/// One RFC 5322 mail, ready to be rendered to bytes for a transport.
///
/// A plain value: build it (usually through `MailTemplates`), adjust fields if needed, then
/// call `rendered()`. Nothing is checked until `validate()` or `rendered()` runs.
public struct MailMessage: Sendable {
    /// The `From` mailbox.
    public var from: MailAddress
    /// Where replies go, when not to `from`.
    public var replyTo: MailAddress?
    /// The `To` recipients; at least one is required.
    public var to: [MailAddress]
    /// The `Cc` recipients.
    public var cc: [MailAddress] = []
    /// The subject, any Unicode text on one line.
    public var subject: String
    /// The Message-ID, `<left@right>`, unique per mail.
    public var messageID: String
    /// The `Date` header, written in UTC.
    public var date: Date
    /// The Message-ID this mail answers, for threading.
    public var inReplyTo: String?
    /// Message-IDs of the thread this mail belongs to, oldest first.
    public var references: [String] = []
    /// The text/plain body; any line endings, sent as CRLF.
    public var textBody: String
    /// The text/html alternative; when set the mail is multipart/alternative.
    public var htmlBody: String?
    /// Further header fields written after `MIME-Version`, such as `Auto-Submitted`.
    ///
    /// Names must be 1–40 printable ASCII characters without `:` and must not be a header
    /// that `rendered()` writes itself (`From`, `Subject`, `Content-Type`, …).
    public var extraHeaders: [(name: String, value: String)] = []

    /// Creates a message; `messageID` defaults to a fresh one in the `from` domain.
    public init(
        from: MailAddress, replyTo: MailAddress? = nil, to: [MailAddress], cc: [MailAddress] = [],
        subject: String, messageID: String? = nil, date: Date = Date(), inReplyTo: String? = nil,
        references: [String] = [], textBody: String, htmlBody: String? = nil,
        extraHeaders: [(name: String, value: String)] = []
    ) {
        self.from = from
        self.replyTo = replyTo
        self.to = to
        self.cc = cc
        self.subject = subject
        self.messageID = messageID ?? MessageIDFactory.make(domain: from.domain)
        self.date = date
        self.inReplyTo = inReplyTo
        self.references = references
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.extraHeaders = extraHeaders
    }

    /// Header names that `rendered()` writes itself and `extraHeaders` may not repeat.
    static let reservedHeaderNames: Set<String> = [
        "date", "from", "sender", "reply-to", "to", "cc", "bcc", "subject", "message-id", "in-reply-to",
        "references", "mime-version", "content-type", "content-transfer-encoding",
    ]

    /// Checks every header value without rendering: CR, LF or NUL anywhere throws
    /// `MailError.headerInjection` naming the header (checked first, for all headers), then
    /// Message-IDs, extra header names and the presence of a recipient are checked.
    public func validate() throws(MailError) {
        var values: [(header: String, value: String)] = [("Subject", self.subject), ("Message-ID", self.messageID)]
        values += [self.from].map { ("From", $0.displayName ?? "") }
        values += [self.replyTo].compactMap { $0 }.map { ("Reply-To", $0.displayName ?? "") }
        values += self.to.map { ("To", $0.displayName ?? "") }
        values += self.cc.map { ("Cc", $0.displayName ?? "") }
        values += [self.inReplyTo].compactMap { $0 }.map { ("In-Reply-To", $0) }
        values += self.references.map { ("References", $0) }
        for extra in self.extraHeaders {
            values.append(("extra header name", extra.name))
            values.append((extra.name, extra.value))
        }
        for (header, value) in values
        where HeaderText.containsLineBreak(value) {
            throw MailError.headerInjection.with(
                "the \(MailError.quote(header)) header contains CR, LF or NUL; remove line breaks from it")
        }

        guard !self.to.isEmpty else {
            throw MailError.missingRecipient.with("the message has no To address; add at least one recipient")
        }
        try Self.validateMessageID(self.messageID, header: "Message-ID")
        if let inReplyTo { try Self.validateMessageID(inReplyTo, header: "In-Reply-To") }
        for reference in self.references { try Self.validateMessageID(reference, header: "References") }
        for extra in self.extraHeaders {
            let validName =
                (1...40).contains(extra.name.utf8.count)
                && extra.name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != ":" }
            guard validName else {
                throw MailError.invalidHeader.with(
                    "\(MailError.quote(extra.name)) is not a valid header name; use 1–40 ASCII letters, digits or '-'")
            }
            guard !Self.reservedHeaderNames.contains(extra.name.lowercased()) else {
                throw MailError.invalidHeader.with(
                    "\(MailError.quote(extra.name)) is written by Retract itself; set the message's own field instead")
            }
        }
    }

    /// Checks the `<left@right>` form: printable ASCII, no spaces or extra angle brackets.
    static func validateMessageID(_ id: String, header: String) throws(MailError) {
        let inner = id.dropFirst().dropLast()
        let valid =
            id.hasPrefix("<") && id.hasSuffix(">") && id.utf8.count <= 250
            && inner.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" }
            && inner.split(separator: "@", omittingEmptySubsequences: false).count == 2
            && !inner.hasPrefix("@") && !inner.hasSuffix("@")
        guard valid else {
            throw MailError.invalidHeader.with(
                "the \(header) value \(MailError.quote(id)) is not a Message-ID; "
                    + "use the form <unique@domain>, as MessageIDFactory.make(domain:) does")
        }
    }
}
