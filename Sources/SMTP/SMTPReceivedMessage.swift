import Foundation

/// One message the SMTP server received in full (after the final dot), handed to its
/// `SMTPMessageAcceptor` before any reply to the dot is sent.
///
/// The content is in `file` (the bytes as the client sent them, dot-stuffing removed, CR LF
/// line ends as received); the server removes the file after the acceptor returns, so an
/// acceptor that keeps the bytes copies or seals them before it answers.
public struct SMTPReceivedMessage: Sendable {
    /// The reverse path of `MAIL FROM:<…>`; empty for the null sender `<>`.
    public var mailFrom: String
    /// The forward paths of the accepted `RCPT TO:<…>`, in order.
    public var recipients: [String]
    /// The message content on disk, under the data directory.
    public var file: URL
    /// Its size in bytes.
    public var size: Int64
    /// Who sent it.
    public var client: SMTPClientInfo

    /// A received message (the server makes these; public so that acceptors can be tested).
    public init(mailFrom: String, recipients: [String], file: URL, size: Int64, client: SMTPClientInfo) {
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.file = file
        self.size = size
        self.client = client
    }
}

/// What the server knows about the client of a session.
public struct SMTPClientInfo: Sendable, Equatable {
    /// The TCP peer's address (`127.0.0.1`, `::1`); for a trusted client that sent
    /// XFORWARD, still the TCP peer (the forwarded values are in `forwarded`).
    public var address: String
    /// The EHLO / HELO name.
    public var heloName: String
    /// The sender account the session authenticated as (AUTH), nil without AUTH.
    public var authenticatedAs: String?
    /// Whether the client is in the trusted networks (the organisation's MTA).
    public var trusted: Bool
    /// Whether the session runs over TLS (STARTTLS).
    public var tls: Bool
    /// XFORWARD attributes a trusted client (Postfix's content filter) passed, by upper-case
    /// name (`ADDR`, `NAME`, `HELO`, `PROTO`, `SOURCE`, `IDENT`).
    public var forwarded: [String: String]

    /// A client description.
    public init(
        address: String, heloName: String, authenticatedAs: String? = nil, tls: Bool = false,
        forwarded: [String: String] = [:], trusted: Bool = false
    ) {
        self.trusted = trusted
        self.address = address
        self.heloName = heloName
        self.authenticatedAs = authenticatedAs
        self.tls = tls
        self.forwarded = forwarded
    }
}

/// The answer to a received message, sent as the reply to its final dot.
public enum SMTPAcceptance: Sendable, Equatable {
    /// Everything for the message is committed: `250 2.0.0 <text>`.
    case accepted(String)
    /// Try again later (vault busy, disk full): `451 4.3.0 <text>`; nothing was kept.
    case temporaryFailure(String)
    /// Never (no such sender, refused by policy): `554 5.7.1 <text>` or the given code.
    case permanentFailure(String)
    /// No such mailbox here (an unknown or retired recall address): `550 5.1.1 <text>`.
    case unknownRecipient(String)
}

/// Where the SMTP server hands what it receives, and asks who may relay; implemented by
/// the `Gateway` target over `RetractCore`. `SMTP` knows nothing of vaults.
public protocol SMTPMessageAcceptor: Sendable {
    /// Takes a complete message; returns only when it is committed (or refused).
    func accept(_ message: SMTPReceivedMessage) async -> SMTPAcceptance

    /// Checks AUTH credentials (a sender's web password or API token); the account's
    /// address when they are right, nil otherwise. Rate limits are the acceptor's.
    func authenticate(username: String, password: String, client: String) async -> String?

    /// Checks AUTH credentials and says why they fail, so that a limited client gets 454
    /// instead of 535. The server calls this one; by default it asks `authenticate`.
    func verifyCredentials(username: String, password: String, client: String) async -> SMTPAuthenticationOutcome
}

extension SMTPMessageAcceptor {
    /// `authenticate`'s answer: the account, or `.rejected`.
    public func verifyCredentials(username: String, password: String, client: String) async
        -> SMTPAuthenticationOutcome
    {
        guard let account = await self.authenticate(username: username, password: password, client: client) else {
            return .rejected
        }
        return .authenticated(account)
    }
}

/// The answer to AUTH credentials.
public enum SMTPAuthenticationOutcome: Sendable, Hashable {
    /// Right: the session is the sender account with this address (`235 2.7.0`).
    case authenticated(String)
    /// Wrong user name or password (`535 5.7.8`).
    case rejected
    /// Too many failed attempts for the account or the client, or the check cannot run
    /// now (`454 4.7.0`); nothing was checked.
    case temporarilyRefused
}
