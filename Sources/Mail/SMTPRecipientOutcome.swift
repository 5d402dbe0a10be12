/// What became of one recipient of one delivery.
public enum SMTPRecipientOutcome: Sendable, Hashable, CustomStringConvertible {
    /// The server took the mail for this recipient (RCPT and the end of DATA both succeeded).
    case accepted
    /// The server refused for now (4xx at MAIL, RCPT or DATA); trying again later may work.
    case temporary(SMTPReply)
    /// The server refused for good (5xx at MAIL, RCPT or DATA).
    case permanent(SMTPReply)
    /// No reply decided it: the connection, TLS or authentication failed, the server broke
    /// off, or the mail could not be offered at all. The error says why and whether it is
    /// temporary.
    case failed(MailError)

    /// Whether the mail reached this recipient's server.
    public var isAccepted: Bool {
        if case .accepted = self { return true }
        return false
    }

    /// Whether a later attempt may succeed: a 4xx reply, or an error that is temporary.
    public var isTemporary: Bool {
        switch self {
        case .accepted, .permanent: false
        case .temporary: true
        case .failed(let error): error.isTemporary
        }
    }

    /// The server's reply that decided the outcome, when one did.
    public var reply: SMTPReply? {
        switch self {
        case .temporary(let reply), .permanent(let reply): reply
        case .accepted, .failed: nil
        }
    }

    /// One line: `accepted`, `temporary failure: 450 …`, `permanent failure: 550 …`, `failed: …`.
    public var description: String {
        switch self {
        case .accepted: "accepted"
        case .temporary(let reply): "temporary failure: \(reply)"
        case .permanent(let reply): "permanent failure: \(reply)"
        case .failed(let error): "failed: \(error)"
        }
    }
}
