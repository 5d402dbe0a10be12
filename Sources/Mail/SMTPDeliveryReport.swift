/// The result of one delivery over SMTP, recipient by recipient.
///
/// When some recipients are refused the mail still goes to the others: `recipients` says
/// which were accepted and how each of the rest failed, `dataReply` is the server's answer
/// to the message content, and `failure` condenses everything into the one error that
/// `SMTPTransport.deliver` throws.
public struct SMTPDeliveryReport: Sendable, Hashable, CustomStringConvertible {
    /// One recipient and its outcome.
    public struct Recipient: Sendable, Hashable {
        /// The forward path as given in the envelope.
        public let address: String
        /// What became of it.
        public let outcome: SMTPRecipientOutcome

        /// Creates an entry.
        public init(address: String, outcome: SMTPRecipientOutcome) {
            self.address = address
            self.outcome = outcome
        }
    }

    /// The delivery id given to the transport.
    public let id: String
    /// The server, `host:port`.
    public let server: String
    /// Every envelope recipient, in envelope order.
    public let recipients: [Recipient]
    /// The reply to the end of the message content, when the content was sent and answered.
    public let dataReply: SMTPReply?
    /// What stopped the delivery as a whole (connection, TLS, authentication, a local check),
    /// when something did; nil when the server answered for every recipient.
    public let error: MailError?
    /// Whether the message content went out, so the server may hold the mail even when no
    /// final reply came: a retry may then duplicate it (delivery is at least once).
    let contentSent: Bool
    /// Whether the mail's gate closed, so it was deliberately not offered to the server (see
    /// `SMTPTransport.deliver(_:envelope:id:gate:)`); nothing of it was accepted.
    let withheld: Bool

    /// Creates a report.
    init(
        id: String, server: String, recipients: [Recipient], dataReply: SMTPReply?, error: MailError?,
        contentSent: Bool, withheld: Bool = false
    ) {
        self.id = id
        self.server = server
        self.recipients = recipients
        self.dataReply = dataReply
        self.error = error
        self.contentSent = contentSent
        self.withheld = withheld
    }

    /// A report where every recipient failed with the same error before any reply decided it.
    static func failed(
        id: String, server: String, recipients: [String], error: MailError, contentSent: Bool = false
    ) -> SMTPDeliveryReport {
        SMTPDeliveryReport(
            id: id, server: server, recipients: recipients.map { Recipient(address: $0, outcome: .failed(error)) },
            dataReply: nil, error: error, contentSent: contentSent)
    }

    /// Whether every recipient was accepted (and there was at least one).
    public var isDelivered: Bool {
        !self.recipients.isEmpty && self.recipients.allSatisfy { $0.outcome.isAccepted }
    }

    /// The recipients the server took the mail for.
    public var acceptedRecipients: [String] {
        self.recipients.filter { $0.outcome.isAccepted }.map(\.address)
    }

    /// The recipients the mail did not reach, with the reason for each.
    public var failedRecipients: [Recipient] {
        self.recipients.filter { !$0.outcome.isAccepted }
    }

    /// The error `deliver` throws, or nil when the mail was delivered to every recipient.
    ///
    /// When one error stopped the whole delivery it is that error (`authenticationFailed`,
    /// `tlsFailed`, `connectionFailed`, …). Otherwise it is `MailError.rejected` naming each
    /// refused recipient with the server's reply; `smtpReply` is the first refusing reply, and
    /// `isTemporary` holds only when every failure is temporary. Retrying a partial delivery
    /// sends the mail again to the recipients that were accepted: use the report to retry only
    /// the failed ones.
    public var failure: MailError? {
        guard !self.isDelivered else { return nil }
        let failed = self.failedRecipients
        if let error = self.error, failed.allSatisfy({ if case .failed = $0.outcome { true } else { false } }) {
            return error
        }
        guard !failed.isEmpty else {
            return MailError.missingRecipient.with("mail \(self.id) has no envelope recipient")
        }
        let shown = failed.prefix(5).map { recipient in
            let reason =
                switch recipient.outcome {
                case .temporary(let reply), .permanent(let reply): reply.description
                case .failed(let error): error.description
                case .accepted: "accepted"
                }
            return "\(recipient.address) (\(reason))"
        }
        let more = failed.count > 5 ? "; and \(failed.count - 5) more" : ""
        let reply = failed.lazy.compactMap { $0.outcome.reply }.first
        return MailError.rejected.with(
            "\(self.server) did not take mail \(self.id) for \(failed.count) of \(self.recipients.count) "
                + "recipient\(self.recipients.count == 1 ? "" : "s"): \(shown.joined(separator: "; "))\(more)",
            reply: reply?.description, temporary: failed.allSatisfy { $0.outcome.isTemporary })
    }

    /// One line: the id, the server, and each recipient's outcome.
    public var description: String {
        let outcomes = self.recipients.map { "\($0.address): \($0.outcome)" }.joined(separator: "; ")
        return "mail \(self.id) via \(self.server): \(outcomes)"
    }
}
