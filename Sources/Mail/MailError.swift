/// An error from building, parsing or delivering mail.
///
/// An "open enum": compare against the static values (`MailError.headerInjection`), never
/// switch exhaustively, so new kinds can be added without breaking callers. Each thrown
/// error also carries a one-line message that names the bad input and says what to do;
/// that message is for people and takes no part in equality, so
/// `#expect(throws: MailError.invalidAddress)` matches any invalid address.
public struct MailError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: String, Sendable {
        case invalidAddress = "invalid address"
        case headerInjection = "header injection"
        case invalidHeader = "invalid header"
        case missingRecipient = "missing recipient"
        case invalidLocale = "invalid locale"
        case templateNotFound = "template not found"
        case invalidTemplate = "invalid template"
        case invalidTemplateInput = "invalid template input"
        case invalidDeliveryID = "invalid delivery id"
        case deliveryFailed = "delivery failed"
        case malformedMail = "malformed mail"
    }

    private let code: Code
    private let message: String?

    private init(_ code: Code, _ message: String? = nil) {
        self.code = code
        self.message = message
    }

    /// An address or display name that is not a valid RFC 5322 mailbox.
    public static let invalidAddress = MailError(.invalidAddress)
    /// A header value contains CR, LF or NUL, which would let it forge further headers.
    public static let headerInjection = MailError(.headerInjection)
    /// A header that cannot be rendered: a malformed Message-ID, a bad or reserved field name.
    public static let invalidHeader = MailError(.invalidHeader)
    /// A message without any `To` recipient.
    public static let missingRecipient = MailError(.missingRecipient)
    /// A locale name that Retract has no templates for.
    public static let invalidLocale = MailError(.invalidLocale)
    /// A required template file, or the directory holding templates, is missing.
    public static let templateNotFound = MailError(.templateNotFound)
    /// A template file that swift-mustache cannot parse, or that renders to an unusable subject.
    public static let invalidTemplate = MailError(.invalidTemplate)
    /// Details handed to a template that cannot be shown (an unknown outcome, a link that is not http(s)).
    public static let invalidTemplateInput = MailError(.invalidTemplateInput)
    /// A delivery id that cannot safely name a file.
    public static let invalidDeliveryID = MailError(.invalidDeliveryID)
    /// The transport could not hand the mail over (an I/O or network failure).
    public static let deliveryFailed = MailError(.deliveryFailed)
    /// Bytes that cannot be parsed as an RFC 5322 / MIME message.
    public static let malformedMail = MailError(.malformedMail)

    /// The same kind of error with a message for people attached.
    func with(_ message: String) -> MailError {
        MailError(self.code, message)
    }

    /// A one-line description: the kind, then what was wrong and what to do.
    public var description: String {
        guard let message else { return "mail error: \(self.code.rawValue)" }
        return "mail error: \(self.code.rawValue): \(message)"
    }

    /// Errors are equal when they are of the same kind; the message does not count.
    public static func == (lhs: MailError, rhs: MailError) -> Bool {
        lhs.code == rhs.code
    }

    /// Hashes the kind only, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }
}

extension MailError {
    /// Quotes untrusted text for an error message: escapes control characters so the message
    /// stays on one line, and shortens long input.
    static func quote(_ text: some StringProtocol, limit: Int = 80) -> String {
        let shortened = text.count > limit ? String(text.prefix(limit)) + "…" : String(text)
        return String(reflecting: shortened)
    }
}
