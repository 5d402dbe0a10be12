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
        case invalidConfiguration = "invalid SMTP configuration"
        case connectionFailed = "connection failed"
        case timedOut = "timed out"
        case tlsFailed = "TLS failed"
        case authenticationFailed = "authentication failed"
        case rejected = "rejected by the server"
        case protocolViolation = "SMTP protocol error"
        case contentUnreadable = "content unreadable"

        /// Whether this kind of failure may pass by itself when nothing else says otherwise.
        var isTemporaryByDefault: Bool {
            switch self {
            case .deliveryFailed, .connectionFailed, .timedOut, .protocolViolation: true
            default: false
            }
        }

        /// Whether this kind of failure means the setup is wrong rather than the mail.
        var isConfigurationProblemByDefault: Bool {
            switch self {
            case .invalidConfiguration: true
            default: false
            }
        }
    }

    private let code: Code
    private let message: String?
    private let reply: String?
    private let temporary: Bool?
    private let configurationProblem: Bool?

    private init(
        _ code: Code, _ message: String? = nil, reply: String? = nil, temporary: Bool? = nil,
        configurationProblem: Bool? = nil
    ) {
        self.code = code
        self.message = message
        self.reply = reply
        self.temporary = temporary
        self.configurationProblem = configurationProblem
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
    /// An SMTP URL, CA file or HELO name that cannot be used, or credentials that would travel
    /// unencrypted. Fix the configuration; retrying changes nothing.
    public static let invalidConfiguration = MailError(.invalidConfiguration)
    /// The SMTP server could not be reached, or the connection broke (refused, reset, closed
    /// early). Temporary.
    public static let connectionFailed = MailError(.connectionFailed)
    /// The SMTP server did not answer in time (connect, greeting, a reply, the end of DATA).
    /// Temporary.
    public static let timedOut = MailError(.timedOut)
    /// The TLS handshake failed: an untrusted certificate or a host name mismatch (a
    /// configuration problem, not temporary), or a broken connection during the handshake
    /// (temporary).
    public static let tlsFailed = MailError(.tlsFailed)
    /// The SMTP server refused the credentials (535, a configuration problem), could not check
    /// them for now (454, temporary), or offers no mechanism Retract speaks.
    public static let authenticationFailed = MailError(.authenticationFailed)
    /// The SMTP server refused the session or the mail (a 4xx or 5xx reply, see `smtpReply`),
    /// or the mail cannot be sent to it at all (too large, needs SMTPUTF8 it lacks).
    public static let rejected = MailError(.rejected)
    /// The SMTP server broke the protocol: an overlong or malformed reply line, a reply nobody
    /// asked for, data after agreeing to STARTTLS. Treated as temporary.
    public static let protocolViolation = MailError(.protocolViolation)

    /// A streamed message's source could not give its bytes (`MailContentSource`): its
    /// stored copy is unreadable or missing.
    public static let contentUnreadable = MailError(.contentUnreadable)

    /// `contentUnreadable` with a message for people, temporary when trying again later may
    /// read it (an I/O error) and not when it never will (the copy fails to authenticate).
    public static func contentUnreadable(_ message: String, temporary: Bool) -> MailError {
        MailError(.contentUnreadable, message, temporary: temporary)
    }

    /// The same kind of error with a message for people attached.
    func with(_ message: String) -> MailError {
        MailError(self.code, message)
    }

    /// The same kind of error with a message, the SMTP reply that caused it, and explicit
    /// answers for `isTemporary` and `isConfigurationProblem` (nil keeps the kind's default).
    func with(
        _ message: String, reply: String?, temporary: Bool? = nil, configurationProblem: Bool? = nil
    ) -> MailError {
        MailError(self.code, message, reply: reply, temporary: temporary, configurationProblem: configurationProblem)
    }

    /// Whether trying the same delivery again later may succeed.
    ///
    /// True for 4xx replies, for connection failures and timeouts, for a protocol error and
    /// for a TLS handshake broken by the network; false for 5xx replies, for refused
    /// credentials (535), an untrusted or mismatched certificate, a server without the
    /// STARTTLS or AUTH that the URL requires, for invalid input and configuration. A refused
    /// configuration is not temporary, but the mail itself is fine: see
    /// `isConfigurationProblem`.
    public var isTemporary: Bool {
        self.temporary ?? self.code.isTemporaryByDefault
    }

    /// Whether the failure lies in the transport's setup rather than in the mail: refused
    /// credentials, an untrusted or mismatched certificate, no STARTTLS or AUTH offered, an
    /// invalid URL or CA file.
    ///
    /// Every mail fails the same way until an operator fixes the configuration, after which the
    /// same mail goes through: a worker should keep such mail queued rather than fail it.
    public var isConfigurationProblem: Bool {
        self.configurationProblem ?? self.code.isConfigurationProblemByDefault
    }

    /// The SMTP server's reply that caused this error, on one line (`550 5.1.1 no such user`);
    /// nil when no reply was involved.
    public var smtpReply: String? {
        self.reply
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
