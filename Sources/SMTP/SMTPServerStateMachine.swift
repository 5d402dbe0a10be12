import Foundation

/// The SMTP server conversation as a pure state machine: it takes the client's command lines
/// (and the events only the caller sees: the content ended, the acceptor answered, the
/// client went quiet) and answers with what to do next. It performs no I/O, so every rule is
/// tested without a network.
///
/// A session goes greeting → EHLO/HELO → (STARTTLS → EHLO) → (AUTH) → transactions of MAIL,
/// RCPT…, DATA, content. Relaying needs a reason: an authenticated session, or a client in
/// the trusted networks (the local MTA); anyone else is refused at MAIL with 530, or, when
/// the server takes mail for recipients of its own (`Settings.localRecipient`, Retract's
/// recall addresses), may send to those and nothing else (554 at RCPT). Commands
/// are answered strictly in order, so PIPELINING (RFC 2920) needs nothing of its own here.
struct SMTPServerStateMachine {
    /// What the machine needs to know about the server and the client.
    struct Settings: Sendable {
        /// The name the server announces in its greeting and EHLO reply.
        var hostname: String
        /// The largest message accepted, in bytes (announced as `SIZE`).
        var maximumMessageSize: Int64
        /// The most recipients in one transaction.
        var maximumRecipients: Int = 100
        /// The most commands answered with a 5xx in one session; the next such command
        /// closes it (421), as Postfix's `smtpd_hard_error_limit` does with scanners.
        var maximumErrors: Int = 20
        /// Whether STARTTLS can be offered (a certificate is configured).
        var tlsAvailable: Bool = false
        /// Whether AUTH is offered at all.
        var authenticationAvailable: Bool = true
        /// The TCP peer's address.
        var clientAddress: String
        /// Whether the peer is in the trusted networks (may relay and send XFORWARD).
        var clientTrusted: Bool
        /// Whether the peer is on loopback (AUTH without TLS is allowed there).
        var clientLoopback: Bool
        /// The recipients the server takes mail for itself from anyone (recall addresses);
        /// nil for none.
        var localRecipient: (@Sendable (String) -> Bool)? = nil
    }

    /// What a finished transaction hands over.
    struct Envelope: Equatable, Sendable {
        var mailFrom: String
        var recipients: [String]
        var client: SMTPClientInfo
    }

    /// What the caller does next.
    enum Action: Equatable, Sendable {
        /// Send this reply, then read the next command.
        case reply(SMTPServerReply)
        /// Send this reply (354), then read the message content and call `contentEnded`.
        case startContent(SMTPServerReply)
        /// Send this reply (220), put TLS on the connection, then call `tlsEstablished()`.
        case startTLS(SMTPServerReply)
        /// Check these credentials with the acceptor, then call `authenticated(_:)`.
        case authenticate(username: String, password: String)
        /// Hand the received content with this envelope to the acceptor, then call `accepted(_:)`.
        case handOver(Envelope)
        /// Send this reply and close the connection.
        case close(SMTPServerReply)
    }

    private enum AuthStep: Hashable {
        case plainResponse
        case loginUsername
        case loginPassword(String)
        case checking
    }

    private struct Transaction: Hashable {
        var mailFrom: String
        var recipients: [String] = []
    }

    private enum State: Hashable {
        case awaitingHello
        case ready
        case transaction(Transaction)
        case receivingContent(Transaction)
        case handingOver
        case authenticating(AuthStep)
        case startingTLS
        case closed
    }

    private let settings: Settings
    private var state = State.awaitingHello
    private var errors = 0
    /// What is known about the client so far.
    private(set) var client: SMTPClientInfo

    /// A machine for a fresh connection.
    init(settings: Settings) {
        self.settings = settings
        self.client = SMTPClientInfo(address: settings.clientAddress, heloName: "", trusted: settings.clientTrusted)
    }

    /// Whether AUTH may be used on this connection now (over TLS, or from loopback).
    private var authenticationPermitted: Bool {
        self.settings.authenticationAvailable && (self.client.tls || self.settings.clientLoopback)
    }

    private var mayRelay: Bool { self.client.authenticatedAs != nil || self.settings.clientTrusted }

    // MARK: Events

    /// The greeting to send when the connection opens.
    func greeting() -> Action {
        .reply(SMTPServerReply(220, nil, "\(self.settings.hostname) ESMTP Retract"))
    }

    /// A command line (or, during AUTH, a response line) arrived.
    mutating func receive(line: [UInt8]) -> Action {
        self.counted(self.answer(line: line))
    }

    private mutating func answer(line: [UInt8]) -> Action {
        if case .authenticating(let step) = self.state {
            return self.authenticationResponse(line, step: step)
        }
        guard self.acceptsCommands else { return self.protocolBroken() }
        let command: SMTPServerCommand
        do {
            command = try SMTPServerCommand.parse(line)
        } catch {
            switch error {
            case .unknownCommand: return .reply(SMTPServerReply(500, "5.5.1", "Command unrecognized"))
            case .syntax(let why): return .reply(SMTPServerReply(501, "5.5.4", "Syntax error: \(why)"))
            case .unsupportedParameter(let key):
                return .reply(SMTPServerReply(555, "5.5.4", "Unsupported parameter \(key.prefix(20))"))
            case .badAddress(let why): return .reply(SMTPServerReply(553, "5.1.3", "Bad address: \(why)"))
            }
        }
        return self.handle(command)
    }

    /// A line longer than the limit arrived (and was discarded up to its end).
    mutating func lineTooLong() -> Action {
        self.counted(self.answerLineTooLong())
    }

    /// Counts a command's 5xx answer; past `maximumErrors` the session ends instead.
    private mutating func counted(_ action: Action) -> Action {
        guard case .reply(let reply) = action, reply.code >= 500 else { return action }
        self.errors += 1
        guard self.errors > self.settings.maximumErrors else { return action }
        self.state = .closed
        return .close(SMTPServerReply(421, "4.7.0", "\(self.settings.hostname) Too many errors, closing connection"))
    }

    private mutating func answerLineTooLong() -> Action {
        if case .authenticating = self.state { self.state = self.stateAfterAuthentication }
        guard self.acceptsCommands else { return self.protocolBroken() }
        return .reply(SMTPServerReply(500, "5.5.2", "Line too long"))
    }

    /// The content after DATA ended at its final dot. `exceededLimit`: it was larger than
    /// the maximum and was discarded.
    mutating func contentEnded(exceededLimit: Bool) -> Action {
        guard case .receivingContent(let transaction) = self.state else { return self.protocolBroken() }
        guard !exceededLimit else {
            self.state = .ready
            return .reply(
                SMTPServerReply(552, "5.3.4", "Message too big; the limit is \(self.settings.maximumMessageSize) bytes")
            )
        }
        self.state = .handingOver
        return .handOver(
            Envelope(mailFrom: transaction.mailFrom, recipients: transaction.recipients, client: self.client))
    }

    /// The content ended but could not be stored (the spool failed): 451, nothing handed over.
    mutating func contentLost() -> Action {
        guard case .receivingContent = self.state else { return self.protocolBroken() }
        self.state = .ready
        return .reply(SMTPServerReply(451, "4.3.0", "Could not store the message; try again later"))
    }

    /// The acceptor answered for the handed-over message.
    mutating func accepted(_ acceptance: SMTPAcceptance) -> Action {
        guard case .handingOver = self.state else { return self.protocolBroken() }
        self.state = .ready
        switch acceptance {
        case .accepted(let text): return .reply(SMTPServerReply(250, "2.0.0", Self.oneLine(text, or: "OK")))
        case .temporaryFailure(let text):
            return .reply(SMTPServerReply(451, "4.3.0", Self.oneLine(text, or: "Try again later")))
        case .permanentFailure(let text):
            return .reply(SMTPServerReply(554, "5.7.1", Self.oneLine(text, or: "Refused")))
        case .unknownRecipient(let text):
            return .reply(SMTPServerReply(550, "5.1.1", Self.oneLine(text, or: "No such recipient")))
        }
    }

    /// The acceptor checked the credentials.
    mutating func authenticated(_ outcome: SMTPAuthenticationOutcome) -> Action {
        guard case .authenticating(.checking) = self.state else { return self.protocolBroken() }
        self.state = self.stateAfterAuthentication
        switch outcome {
        case .authenticated(let account):
            self.client.authenticatedAs = account
            return .reply(SMTPServerReply(235, "2.7.0", "Authentication successful"))
        case .rejected:
            return .reply(SMTPServerReply(535, "5.7.8", "Authentication credentials invalid"))
        case .temporarilyRefused:
            return .reply(SMTPServerReply(454, "4.7.0", "Too many authentication attempts; try again later"))
        }
    }

    /// The TLS handshake after STARTTLS completed: the session starts over (RFC 3207 §4.2).
    mutating func tlsEstablished() {
        guard case .startingTLS = self.state else { return }
        self.client.tls = true
        self.client.heloName = ""
        self.state = .awaitingHello
    }

    /// The client sent nothing for the idle timeout.
    mutating func timedOut() -> Action {
        self.state = .closed
        return .close(SMTPServerReply(421, "4.4.2", "\(self.settings.hostname) Timeout, closing connection"))
    }

    /// The server is shutting down; called between commands.
    mutating func shuttingDown() -> Action {
        self.state = .closed
        return .close(SMTPServerReply(421, "4.3.2", "\(self.settings.hostname) Service shutting down"))
    }

    // MARK: Commands

    private var acceptsCommands: Bool {
        switch self.state {
        case .awaitingHello, .ready, .transaction: true
        default: false
        }
    }

    private var inTransaction: Bool {
        if case .transaction = self.state { return true }
        return false
    }

    /// After AUTH (successful or not): ready if EHLO was given.
    private var stateAfterAuthentication: State { self.client.heloName.isEmpty ? .awaitingHello : .ready }

    private mutating func handle(_ command: SMTPServerCommand) -> Action {
        switch command {
        case .ehlo(let name):
            self.client.heloName = name
            self.state = .ready
            return .reply(SMTPServerReply(250, nil, ["\(self.settings.hostname) greets \(name)"] + self.extensions))
        case .helo(let name):
            self.client.heloName = name
            self.state = .ready
            return .reply(SMTPServerReply(250, nil, self.settings.hostname))
        case .mail(let from, let parameters):
            guard case .ready = self.state else {
                return self.inTransaction
                    ? Self.badSequence("Nested MAIL command") : Self.badSequence("Send EHLO first")
            }
            // A client that may not relay may still write to the server's own recipients.
            guard self.mayRelay || self.settings.localRecipient != nil else {
                return .reply(SMTPServerReply(530, "5.7.0", "Authentication required"))
            }
            if let size = parameters.declaredSize, size > self.settings.maximumMessageSize {
                return .reply(
                    SMTPServerReply(
                        552, "5.3.4", "Message too big; the limit is \(self.settings.maximumMessageSize) bytes"))
            }
            self.state = .transaction(Transaction(mailFrom: from))
            return .reply(SMTPServerReply(250, "2.1.0", "Sender OK"))
        case .recipient(let to):
            guard case .transaction(var transaction) = self.state else {
                return Self.badSequence("Need MAIL before RCPT")
            }
            guard transaction.recipients.count < self.settings.maximumRecipients else {
                return .reply(SMTPServerReply(452, "4.5.3", "Too many recipients"))
            }
            guard self.mayRelay || self.settings.localRecipient?(to) == true else {
                return .reply(SMTPServerReply(554, "5.7.1", "Relay access denied; authenticate first"))
            }
            transaction.recipients.append(to)
            self.state = .transaction(transaction)
            return .reply(SMTPServerReply(250, "2.1.5", "Recipient OK"))
        case .data:
            guard case .transaction(let transaction) = self.state else {
                return Self.badSequence("Need MAIL before DATA")
            }
            guard !transaction.recipients.isEmpty else { return Self.badSequence("Need RCPT before DATA") }
            self.state = .receivingContent(transaction)
            return .startContent(SMTPServerReply(354, nil, "End data with <CR><LF>.<CR><LF>"))
        case .reset:
            if self.state != .awaitingHello { self.state = .ready }
            return .reply(SMTPServerReply(250, "2.0.0", "Reset OK"))
        case .noop:
            return .reply(SMTPServerReply(250, "2.0.0", "OK"))
        case .quit:
            self.state = .closed
            return .close(SMTPServerReply(221, "2.0.0", "\(self.settings.hostname) closing connection"))
        case .verify:
            return .reply(SMTPServerReply(252, "2.5.0", "Cannot VRFY user; send mail and delivery will be attempted"))
        case .expand:
            return .reply(SMTPServerReply(502, "5.5.1", "EXPN not available"))
        case .help:
            return .reply(SMTPServerReply(214, "2.0.0", "See RFC 5321"))
        case .notImplemented:
            return .reply(SMTPServerReply(502, "5.5.1", "Command not implemented"))
        case .startTLS:
            guard self.settings.tlsAvailable else {
                return .reply(SMTPServerReply(502, "5.5.1", "STARTTLS not available"))
            }
            guard !self.client.tls else { return Self.badSequence("TLS already active") }
            guard self.client.authenticatedAs == nil else { return Self.badSequence("STARTTLS not allowed after AUTH") }
            guard !self.inTransaction else { return Self.badSequence("STARTTLS not allowed in a mail transaction") }
            self.state = .startingTLS
            return .startTLS(SMTPServerReply(220, "2.0.0", "Ready to start TLS"))
        case .auth(let mechanism, let initialResponse):
            return self.startAuthentication(mechanism: mechanism, initialResponse: initialResponse)
        case .xforward(let attributes):
            guard self.settings.clientTrusted else {
                return .reply(SMTPServerReply(550, "5.7.0", "XFORWARD not permitted"))
            }
            guard !self.inTransaction else { return Self.badSequence("XFORWARD not allowed in a mail transaction") }
            for attribute in attributes {
                if attribute.value == "[UNAVAILABLE]" || attribute.value == "[TEMPUNAVAIL]" {
                    self.client.forwarded[attribute.name] = nil
                } else {
                    self.client.forwarded[attribute.name] = attribute.value
                }
            }
            return .reply(SMTPServerReply(250, "2.0.0", "OK"))
        }
    }

    /// The EHLO keywords, in the order clients usually see them.
    private var extensions: [String] {
        var lines = [
            "SIZE \(self.settings.maximumMessageSize)", "8BITMIME", "SMTPUTF8", "PIPELINING",
            "ENHANCEDSTATUSCODES", "DSN",
        ]
        if self.settings.tlsAvailable && !self.client.tls { lines.append("STARTTLS") }
        if self.authenticationPermitted && self.client.authenticatedAs == nil { lines.append("AUTH PLAIN LOGIN") }
        if self.settings.clientTrusted { lines.append("XFORWARD NAME ADDR PROTO HELO SOURCE IDENT") }
        return lines
    }

    // MARK: AUTH

    private mutating func startAuthentication(mechanism: String, initialResponse: String?) -> Action {
        guard self.settings.authenticationAvailable else {
            return .reply(SMTPServerReply(502, "5.5.1", "AUTH not available"))
        }
        guard case .ready = self.state else {
            return self.inTransaction
                ? Self.badSequence("AUTH not allowed in a mail transaction") : Self.badSequence("Send EHLO first")
        }
        guard self.client.authenticatedAs == nil else { return Self.badSequence("Already authenticated") }
        guard self.authenticationPermitted else {
            return .reply(SMTPServerReply(538, "5.7.11", "Encryption required: send STARTTLS first"))
        }
        switch mechanism {
        case "PLAIN":
            guard let initialResponse else {
                self.state = .authenticating(.plainResponse)
                return .reply(SMTPServerReply(334, nil, ""))
            }
            return self.checkPlain(initialResponse == "=" ? "" : initialResponse)
        case "LOGIN":
            guard let initialResponse else {
                self.state = .authenticating(.loginUsername)
                return .reply(SMTPServerReply(334, nil, Self.base64("Username:")))
            }
            return self.authenticationResponse(Array(initialResponse.utf8), step: .loginUsername)
        default:
            return .reply(SMTPServerReply(504, "5.5.4", "Unrecognized authentication mechanism"))
        }
    }

    private mutating func authenticationResponse(_ line: [UInt8], step: AuthStep) -> Action {
        let text = String(decoding: line, as: UTF8.self).trimmingSpaces()
        if text == "*" {
            self.state = self.stateAfterAuthentication
            return .reply(SMTPServerReply(501, "5.7.0", "Authentication cancelled"))
        }
        switch step {
        case .plainResponse:
            return self.checkPlain(text)
        case .loginUsername:
            guard let username = Self.decodeBase64Text(text) else { return self.badBase64() }
            self.state = .authenticating(.loginPassword(username))
            return .reply(SMTPServerReply(334, nil, Self.base64("Password:")))
        case .loginPassword(let username):
            guard let password = Self.decodeBase64Text(text) else { return self.badBase64() }
            self.state = .authenticating(.checking)
            return .authenticate(username: username, password: password)
        case .checking:
            return self.protocolBroken()
        }
    }

    /// `[authzid] NUL authcid NUL passwd` (RFC 4616); an authzid other than the authcid is refused.
    private mutating func checkPlain(_ response: String) -> Action {
        guard let decoded = Data(base64Encoded: response) else { return self.badBase64() }
        let fields = decoded.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3, let authorization = String(data: fields[0], encoding: .utf8),
            let username = String(data: fields[1], encoding: .utf8),
            let password = String(data: fields[2], encoding: .utf8),
            !username.isEmpty
        else {
            self.state = self.stateAfterAuthentication
            return .reply(SMTPServerReply(535, "5.7.8", "Authentication credentials invalid"))
        }
        guard authorization.isEmpty || authorization == username else {
            self.state = self.stateAfterAuthentication
            return .reply(SMTPServerReply(535, "5.7.8", "Authorization identity not permitted"))
        }
        self.state = .authenticating(.checking)
        return .authenticate(username: username, password: password)
    }

    private mutating func badBase64() -> Action {
        self.state = self.stateAfterAuthentication
        return .reply(SMTPServerReply(501, "5.5.2", "Cannot decode the response"))
    }

    private static func decodeBase64Text(_ text: String) -> String? {
        guard let data = Data(base64Encoded: text) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    private static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    // MARK: Helpers

    private static func badSequence(_ text: String) -> Action {
        .reply(SMTPServerReply(503, "5.5.1", "Bad sequence of commands: \(text)"))
    }

    /// An event that cannot happen in this state: the caller broke the protocol; end the session.
    private mutating func protocolBroken() -> Action {
        self.state = .closed
        return .close(SMTPServerReply(421, "4.3.0", "\(self.settings.hostname) Internal error, closing connection"))
    }

    /// The acceptor's text on one line, without control characters, or a default.
    private static func oneLine(_ text: String, or fallback: String) -> String {
        let cleaned = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(200))
        return cleaned.isEmpty ? fallback : cleaned
    }
}
