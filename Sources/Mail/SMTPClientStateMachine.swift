import Foundation

/// The SMTP client conversation as a pure state machine: it takes the server's replies (and
/// the few events only the caller sees: TLS is up, the connection broke) and answers with
/// what to do next. It performs no I/O, so every path is tested without a network.
///
/// A session goes greeting → EHLO (HELO when EHLO is refused with 5xx) → STARTTLS and EHLO
/// again when required → AUTH PLAIN or LOGIN when there are credentials → ready. Each mail
/// is then MAIL FROM, one RCPT TO per recipient, DATA, the content; with PIPELINING all of
/// MAIL, RCPT and DATA leave in one write (RFC 2920). When a transaction is abandoned before
/// its end (MAIL refused, every RCPT refused, DATA refused) the next one starts with RSET.
/// A 421 at any point, or any broken rule, ends the session with an error.
struct SMTPClientStateMachine {
    /// What the machine needs to know about the session it drives.
    struct Settings: Sendable {
        /// The EHLO/HELO name.
        var heloName: String
        /// Whether STARTTLS is required, or TLS is already there from the start.
        var security: SMTPConfiguration.Security
        /// The AUTH user name, if any.
        var username: String?
        /// The AUTH password, if any.
        var password: String?
        /// `host:port`, for messages.
        var server: String

        init(configuration: SMTPConfiguration) {
            self.heloName = configuration.heloName
            self.security = configuration.security
            self.username = configuration.username
            self.password = configuration.password
            self.server = configuration.endpoint
        }

        init(
            heloName: String, security: SMTPConfiguration.Security, username: String?, password: String?, server: String
        ) {
            self.heloName = heloName
            self.security = security
            self.username = username
            self.password = password
            self.server = server
        }
    }

    /// What the caller does next.
    enum Action: Hashable {
        /// Write these requests in one go, then feed the next reply to `receive`.
        case send([SMTPRequest])
        /// Feed the next reply to `receive`; nothing to write.
        case awaitReply
        /// Put TLS on the connection, wait for the handshake, then call `tlsEstablished()`.
        case startTLS
        /// The session is ready for `startMail` (or `quit`).
        case sessionReady
        /// The mail's transaction is over; the session is ready for the next one.
        case mailFinished(SMTPDeliveryReport)
        /// QUIT was answered: close the connection.
        case closed
        /// The session is over: close the connection. The report covers the mail in flight, if any.
        case fail(MailError, SMTPDeliveryReport?)
        /// A gated mail reached the last point before the server could accept it: ask its gate,
        /// then call `gateOpened()` or `gateClosed()`.
        case askGate
        /// Ask the gate as for `askGate`; when it opens, write these requests (no reply is owed
        /// for them) together with what `gateOpened` returns, in one write; when it closes,
        /// write nothing of them.
        case askGateThenSend([SMTPRequest])
    }

    private enum AuthStep: Hashable {
        case plain
        case loginStarted
        case loginUsernameSent
        case loginPasswordSent
    }

    private enum Step: Hashable {
        case reset
        case mailFrom
        case recipient(Int)
        case dataCommand
        case dataEnd
        /// Every RCPT answered, DATA not yet sent (without PIPELINING): waiting for the gate.
        case gateBeforeData
        /// DATA answered 354 and the content went out without its final `.` line (with
        /// PIPELINING): waiting for the gate before the `.`.
        case gateBeforeContent
    }

    private struct Transaction {
        let mail: SMTPMailTransaction
        let pipelined: Bool
        let mailRequest: SMTPRequest
        var expecting: Step
        var mailReply: SMTPReply?
        var recipientReplies: [SMTPReply] = []
        var dataCommandReply: SMTPReply?
        var finalReply: SMTPReply?
        var contentSent = false
        var withheld = false

        var mailAccepted: Bool { self.mailReply?.isSuccess ?? false }
        var anyRecipientAccepted: Bool { self.recipientReplies.contains { $0.isSuccess } }
    }

    private enum State {
        case awaitingGreeting
        case awaitingEHLO
        case awaitingHELO
        case awaitingStartTLS
        case tlsHandshake
        case authenticating(AuthStep)
        case ready
        case transaction(Transaction)
        case awaitingQuit
        case closed
    }

    private let settings: Settings
    private var state = State.awaitingGreeting
    /// What the server offered in its last EHLO reply.
    private(set) var capabilities = SMTPCapabilities()
    /// Whether the connection is encrypted now.
    private(set) var tlsActive: Bool
    /// Whether the next transaction must start with RSET.
    private(set) var needsReset = false
    /// The transaction whose MAIL, RCPT and DATA went out behind the content of the one in
    /// flight (`gateOpened(next:)`); it takes over when that one is answered.
    private var lookahead: Transaction?

    /// A machine for a fresh connection, waiting for the greeting.
    init(settings: Settings) {
        self.settings = settings
        self.tlsActive = settings.security == .implicitTLS
    }

    /// Whether the session can take a mail now.
    var isReady: Bool {
        if case .ready = self.state { return true }
        return false
    }

    /// Whether a mail's transaction is under way: after `mailFinished`, the mail given to
    /// `gateOpened(next:)` has started, and the caller feeds its replies instead of calling
    /// `startMail`.
    var hasMailInFlight: Bool {
        if case .transaction = self.state { return true }
        return false
    }

    // MARK: - Inputs

    /// Takes the next reply from the server.
    mutating func receive(_ reply: SMTPReply) -> Action {
        if reply.code == 421, !self.isAwaitingQuit {
            return self.failSession(
                MailError.connectionFailed.with(
                    "\(self.settings.server) is closing the connection: \(reply)", reply: reply.description,
                    temporary: true),
                reply: reply)
        }
        switch self.state {
        case .awaitingGreeting:
            guard reply.isSuccess else { return self.failSession(self.refused("the session", reply), reply: reply) }
            self.state = .awaitingEHLO
            return .send([.ehlo(self.settings.heloName)])

        case .awaitingEHLO:
            if reply.isSuccess {
                self.capabilities = SMTPCapabilities(ehloReply: reply)
                return self.afterHello()
            }
            guard reply.isPermanentFailure else { return self.failSession(self.refused("EHLO", reply), reply: reply) }
            self.state = .awaitingHELO
            return .send([.helo(self.settings.heloName)])

        case .awaitingHELO:
            guard reply.isSuccess else { return self.failSession(self.refused("HELO", reply), reply: reply) }
            self.capabilities = SMTPCapabilities()
            return self.afterHello()

        case .awaitingStartTLS:
            guard reply.isSuccess else {
                return self.failSession(
                    MailError.tlsFailed.with(
                        "\(self.settings.server) refused STARTTLS: \(reply)", reply: reply.description,
                        temporary: reply.isTemporaryFailure, configurationProblem: !reply.isTemporaryFailure),
                    reply: reply)
            }
            self.state = .tlsHandshake
            return .startTLS

        case .authenticating(let step):
            return self.receiveAuthentication(reply, step: step)

        case .transaction(let transaction):
            return self.receiveInTransaction(reply, transaction)

        case .awaitingQuit:
            self.state = .closed
            return .closed

        case .tlsHandshake, .ready, .closed:
            return self.failSession(
                MailError.protocolViolation.with(
                    "\(self.settings.server) sent a reply nobody asked for: \(reply)", reply: reply.description),
                reply: nil)
        }
    }

    /// TLS is up after STARTTLS: forget what the server said before and greet it again (RFC 3207 §4.2).
    mutating func tlsEstablished() -> Action {
        guard case .tlsHandshake = self.state else {
            return self.failSession(
                MailError.protocolViolation.with("TLS came up while no STARTTLS was pending"), reply: nil)
        }
        self.tlsActive = true
        self.capabilities = SMTPCapabilities()
        self.state = .awaitingEHLO
        return .send([.ehlo(self.settings.heloName)])
    }

    /// Begins a mail on a ready session. A mail that cannot be offered to this server (no
    /// recipient, a bad address, too large, needs SMTPUTF8) finishes at once with a report
    /// and leaves the session ready.
    mutating func startMail(_ mail: SMTPMailTransaction) -> Action {
        guard case .ready = self.state else {
            return self.failSession(
                MailError.protocolViolation.with("a mail was started while the session was not ready"), reply: nil)
        }
        if let problem = self.problem(with: mail) {
            return .mailFinished(
                .failed(id: mail.id, server: self.settings.server, recipients: mail.recipients, error: problem))
        }

        let mailRequest = self.mailRequest(for: mail)
        let pipelined = self.capabilities.pipelining
        let transaction = Transaction(
            mail: mail, pipelined: pipelined, mailRequest: mailRequest,
            expecting: self.needsReset ? .reset : .mailFrom)
        self.state = .transaction(transaction)

        var requests: [SMTPRequest] = self.needsReset ? [.reset] : []
        if pipelined {
            requests.append(mailRequest)
            requests += mail.recipients.map { SMTPRequest.recipient($0) }
            requests.append(.data)
        } else if !self.needsReset {
            requests.append(mailRequest)
        }
        return .send(requests)
    }

    private func mailRequest(for mail: SMTPMailTransaction) -> SMTPRequest {
        var parameters: [String] = []
        if self.capabilities.offersSize { parameters.append("SIZE=\(mail.size)") }
        if mail.is8Bit && self.capabilities.eightBitMIME { parameters.append("BODY=8BITMIME") }
        if mail.needsSMTPUTF8 { parameters.append("SMTPUTF8") }
        return SMTPRequest.mailFrom(mail.mailFrom, parameters: parameters)
    }

    /// Ends a ready session politely.
    mutating func quit() -> Action {
        guard case .ready = self.state else {
            self.state = .closed
            return .closed
        }
        self.state = .awaitingQuit
        return .send([.quit])
    }

    /// The connection broke (closed, reset, timed out, TLS failed): the session is over.
    mutating func connectionFailed(_ error: MailError) -> Action {
        if case .awaitingQuit = self.state {
            self.state = .closed
            return .closed
        }
        return self.failSession(error, reply: nil)
    }

    // MARK: - Session steps

    private var isAwaitingQuit: Bool {
        if case .awaitingQuit = self.state { return true }
        return false
    }

    /// After a successful EHLO/HELO: STARTTLS when still required, then AUTH when configured.
    private mutating func afterHello() -> Action {
        if self.settings.security == .startTLS && !self.tlsActive {
            guard self.capabilities.startTLS else {
                return self.failSession(
                    MailError.tlsFailed.with(
                        "\(self.settings.server) does not offer STARTTLS, which smtp+starttls:// requires; "
                            + "use smtps:// if it speaks TLS on connect", reply: nil, temporary: false,
                        configurationProblem: true),
                    reply: nil)
            }
            self.state = .awaitingStartTLS
            return .send([.startTLS])
        }
        guard let username = self.settings.username, let password = self.settings.password else {
            self.state = .ready
            return .sessionReady
        }
        let mechanisms = self.capabilities.authMechanisms
        if mechanisms.contains("PLAIN") {
            self.state = .authenticating(.plain)
            return .send([.authPlain(initialResponse: Self.base64("\0\(username)\0\(password)"))])
        }
        if mechanisms.contains("LOGIN") {
            self.state = .authenticating(.loginStarted)
            return .send([.authLogin])
        }
        let reason =
            mechanisms.isEmpty
            ? "does not offer AUTH\(self.tlsActive ? "" : " without TLS (use smtp+starttls:// or smtps://)")"
            : "offers AUTH \(mechanisms.sorted().joined(separator: " ")) but Retract speaks only PLAIN and LOGIN"
        return self.failSession(
            MailError.authenticationFailed.with(
                "\(self.settings.server) \(reason)", reply: nil, temporary: false, configurationProblem: true),
            reply: nil)
    }

    private mutating func receiveAuthentication(_ reply: SMTPReply, step: AuthStep) -> Action {
        switch step {
        case .plain, .loginPasswordSent:
            guard reply.isSuccess else { return self.authenticationFailed(reply) }
            self.state = .ready
            return .sessionReady
        case .loginStarted:
            guard reply.code == 334, let username = self.settings.username else {
                return self.authenticationFailed(reply)
            }
            self.state = .authenticating(.loginUsernameSent)
            return .send([.authResponse(Self.base64(username))])
        case .loginUsernameSent:
            guard reply.code == 334, let password = self.settings.password else {
                return self.authenticationFailed(reply)
            }
            self.state = .authenticating(.loginPasswordSent)
            return .send([.authResponse(Self.base64(password))])
        }
    }

    private mutating func authenticationFailed(_ reply: SMTPReply) -> Action {
        let user = MailError.quote(self.settings.username ?? "", limit: 60)
        let reason =
            reply.code == 535
            ? "\(self.settings.server) refused the user name or password for \(user)"
            : reply.isTemporaryFailure
                ? "\(self.settings.server) could not check the credentials for \(user) for now"
                : "\(self.settings.server) did not accept AUTH for \(user)"
        let hint = reply.code == 535 ? "; check the credentials in the SMTP URL" : ""
        return self.failSession(
            MailError.authenticationFailed.with(
                "\(reason): \(reply)\(hint)", reply: reply.description, temporary: reply.isTemporaryFailure,
                configurationProblem: !reply.isTemporaryFailure),
            reply: reply)
    }

    // MARK: - Transaction steps

    private mutating func receiveInTransaction(_ reply: SMTPReply, _ transaction: Transaction) -> Action {
        var transaction = transaction
        if reply.isIntermediate && transaction.expecting != .dataCommand {
            return self.failSession(
                MailError.protocolViolation.with(
                    "\(self.settings.server) answered \(reply) where no intermediate reply belongs",
                    reply: reply.description),
                reply: nil)
        }
        let recipients = transaction.mail.recipients
        switch transaction.expecting {
        case .reset:
            guard reply.isSuccess else { return self.failSession(self.refused("RSET", reply), reply: reply) }
            self.needsReset = false
            transaction.expecting = .mailFrom
            self.state = .transaction(transaction)
            return transaction.pipelined ? .awaitReply : .send([transaction.mailRequest])

        case .mailFrom:
            if reply.code == 530 {
                // "Authentication required" / "Must issue STARTTLS first": the setup is at
                // fault, not this mail, and every later mail would meet the same answer.
                return self.failSession(
                    MailError.authenticationFailed.with(
                        "\(self.settings.server) requires authentication or TLS before accepting mail: \(reply); "
                            + "put user:password@ in the SMTP URL, or use smtp+starttls:// or smtps://",
                        reply: reply.description, temporary: false, configurationProblem: true),
                    reply: nil)
            }
            transaction.mailReply = reply
            if !transaction.pipelined && !reply.isSuccess { return self.finish(transaction) }
            transaction.expecting = .recipient(0)
            self.state = .transaction(transaction)
            return transaction.pipelined ? .awaitReply : .send([.recipient(recipients[0])])

        case .recipient(let index):
            transaction.recipientReplies.append(reply)
            if index + 1 < recipients.count {
                transaction.expecting = .recipient(index + 1)
                self.state = .transaction(transaction)
                return transaction.pipelined ? .awaitReply : .send([.recipient(recipients[index + 1])])
            }
            if !transaction.pipelined && !transaction.anyRecipientAccepted { return self.finish(transaction) }
            if !transaction.pipelined && transaction.mail.gated {
                transaction.expecting = .gateBeforeData
                self.state = .transaction(transaction)
                return .askGate
            }
            transaction.expecting = .dataCommand
            self.state = .transaction(transaction)
            return transaction.pipelined ? .awaitReply : .send([.data])

        case .dataCommand:
            transaction.dataCommandReply = reply
            if reply.code == 354 {
                transaction.expecting = .dataEnd
                // A pipelined DATA may be answered 354 although nothing was accepted (RFC 2920
                // §3.1): end it with an empty message, which the server must not deliver.
                let send = transaction.mailAccepted && transaction.anyRecipientAccepted
                if send && transaction.mail.gated && transaction.pipelined {
                    // The gate decides before anything of the content goes out; then the content,
                    // its final `.` and the next mail's envelope leave in one write, so the
                    // server reads the whole mail at once and never waits for the client
                    // between its content and its end.
                    transaction.expecting = .gateBeforeContent
                    self.state = .transaction(transaction)
                    return .askGateThenSend([transaction.mail.contentRequest(terminated: false)])
                }
                transaction.contentSent = send
                self.state = .transaction(transaction)
                return .send([send ? transaction.mail.contentRequest(terminated: true) : .content([])])
            }
            guard !reply.isSuccess && !reply.isIntermediate else {
                return self.failSession(
                    MailError.protocolViolation.with(
                        "\(self.settings.server) answered DATA with \(reply) instead of 354",
                        reply: reply.description),
                    reply: nil)
            }
            return self.finish(transaction)

        case .dataEnd:
            transaction.finalReply = reply
            return self.finish(transaction)

        case .gateBeforeData, .gateBeforeContent:
            return self.failSession(
                MailError.protocolViolation.with(
                    "\(self.settings.server) sent a reply nobody asked for: \(reply)", reply: reply.description),
                reply: nil)
        }
    }

    /// The gate of the mail in flight said go: send DATA, or, after a pipelined DATA's 354,
    /// the content's final `.` line (written right behind the content that `askGateThenSend`
    /// holds).
    ///
    /// With PIPELINING, `next` (when given, and when this server can take it) starts right
    /// behind the `.`: its MAIL, RCPT and DATA leave in the same write (RFC 2920 §3.1 lets
    /// the content be the first command of a group), so the server goes from one mail to the
    /// next without waiting for the client. Its content still waits for its own gate.
    mutating func gateOpened(next: SMTPMailTransaction? = nil) -> Action {
        guard case .transaction(var transaction) = self.state,
            transaction.expecting == .gateBeforeData || transaction.expecting == .gateBeforeContent
        else {
            return self.failSession(
                MailError.protocolViolation.with("a gate was opened while none was pending"), reply: nil)
        }
        if transaction.expecting == .gateBeforeData {
            transaction.expecting = .dataCommand
            self.state = .transaction(transaction)
            return .send([.data])
        }
        transaction.expecting = .dataEnd
        transaction.contentSent = true
        self.state = .transaction(transaction)
        var requests: [SMTPRequest] = [.endOfContent]
        if let next, next.gated, self.problem(with: next) == nil {
            let mailRequest = self.mailRequest(for: next)
            self.lookahead = Transaction(mail: next, pipelined: true, mailRequest: mailRequest, expecting: .mailFrom)
            requests.append(mailRequest)
            requests += next.recipients.map { SMTPRequest.recipient($0) }
            requests.append(.data)
        }
        return .send(requests)
    }

    /// The gate of the mail in flight said no: the mail is withheld, nothing of it is
    /// accepted by the server.
    ///
    /// Before DATA the transaction is abandoned (the next one starts with RSET) and the
    /// session stays ready. After a pipelined DATA was answered 354 there is no way back short
    /// of the final `.`, which would deliver whatever content came before it, so the session
    /// ends instead and the caller closes the connection mid-DATA: a server treats a
    /// connection closed before the `.` as RSET and discards the message (RFC 5321 §3.8).
    mutating func gateClosed() -> Action {
        guard case .transaction(var transaction) = self.state,
            transaction.expecting == .gateBeforeData || transaction.expecting == .gateBeforeContent
        else {
            return self.failSession(
                MailError.protocolViolation.with("a gate was closed while none was pending"), reply: nil)
        }
        transaction.withheld = true
        let error = MailError.deliveryFailed.with(
            "mail \(transaction.mail.id) was withheld before the server could accept it", reply: nil,
            temporary: false)
        if transaction.expecting == .gateBeforeData {
            self.needsReset = true
            self.state = .ready
            return .mailFinished(self.report(transaction, unresolved: (.failed(error), error)))
        }
        self.state = .transaction(transaction)
        return self.failSession(error, reply: nil)
    }

    /// Ends the transaction with a report; the session is ready again.
    private mutating func finish(_ transaction: Transaction) -> Action {
        self.needsReset = transaction.finalReply == nil
        if let next = self.lookahead {
            // Only a mail whose content went out has a lookahead, and this is its final reply.
            self.lookahead = nil
            self.state = .transaction(next)
        } else {
            self.state = .ready
        }
        return .mailFinished(self.report(transaction, unresolved: nil))
    }

    /// Ends the session; the mail in flight, if any, gets a report in which every recipient
    /// not yet decided takes the failing reply, or the error when no reply caused it.
    private mutating func failSession(_ error: MailError, reply: SMTPReply?) -> Action {
        var report: SMTPDeliveryReport?
        if case .transaction(let transaction) = self.state {
            let unresolved: SMTPRecipientOutcome = reply.map(Self.outcome) ?? .failed(error)
            report = self.report(transaction, unresolved: (unresolved, error))
        }
        self.lookahead = nil
        self.state = .closed
        return .fail(error, report)
    }

    private func report(
        _ transaction: Transaction, unresolved: (outcome: SMTPRecipientOutcome, error: MailError)?
    ) -> SMTPDeliveryReport {
        let missing = unresolved?.outcome ?? .failed(MailError.deliveryFailed.with("the transaction ended early"))
        let recipients = transaction.mail.recipients.enumerated().map { index, address in
            let outcome: SMTPRecipientOutcome
            if let mailReply = transaction.mailReply, !mailReply.isSuccess {
                outcome = Self.outcome(mailReply)
            } else if index < transaction.recipientReplies.count {
                let recipientReply = transaction.recipientReplies[index]
                if !recipientReply.isSuccess {
                    outcome = Self.outcome(recipientReply)
                } else if let dataReply = transaction.dataCommandReply, dataReply.code != 354 {
                    outcome = Self.outcome(dataReply)
                } else if let finalReply = transaction.finalReply {
                    outcome = finalReply.isSuccess ? .accepted : Self.outcome(finalReply)
                } else {
                    outcome = missing
                }
            } else {
                outcome = missing
            }
            return SMTPDeliveryReport.Recipient(address: address, outcome: outcome)
        }
        return SMTPDeliveryReport(
            id: transaction.mail.id, server: self.settings.server, recipients: recipients,
            dataReply: transaction.contentSent ? transaction.finalReply : nil, error: unresolved?.error,
            contentSent: transaction.contentSent, withheld: transaction.withheld)
    }

    // MARK: - Helpers

    /// Why a mail cannot be offered to this server at all, if it cannot.
    private func problem(with mail: SMTPMailTransaction) -> MailError? {
        guard !mail.recipients.isEmpty else {
            return MailError.missingRecipient.with("mail \(mail.id) has no envelope recipient")
        }
        for (address, isSender) in [(mail.mailFrom, true)] + mail.recipients.map({ ($0, false) }) {
            guard Self.isValidPath(address, allowEmpty: isSender) else {
                return MailError.invalidAddress.with(
                    "\(MailError.quote(address)) cannot be an SMTP \(isSender ? "sender" : "recipient") address")
            }
        }
        if let limit = self.capabilities.maximumSize, mail.size > Int64(limit) {
            return MailError.rejected.with(
                "mail \(mail.id) is \(mail.size) bytes, more than the \(limit) bytes "
                    + "\(self.settings.server) accepts", reply: nil, temporary: false)
        }
        if mail.needsSMTPUTF8 && !self.capabilities.smtpUTF8 {
            return MailError.rejected.with(
                "mail \(mail.id) has a non-ASCII address but \(self.settings.server) does not offer SMTPUTF8",
                reply: nil, temporary: false)
        }
        return nil
    }

    /// An address that can stand between `<` and `>`: no spaces, controls or angle brackets,
    /// at most 320 bytes, with an `@` (the sender may be empty, the null reverse path).
    static func isValidPath(_ address: String, allowEmpty: Bool) -> Bool {
        if address.isEmpty { return allowEmpty }
        return address.utf8.count <= 320 && address.contains("@")
            && address.unicodeScalars.allSatisfy {
                $0.value > 0x20 && $0.value != 0x7F && $0 != "<" && $0 != ">" && !(0x80...0x9F).contains($0.value)
            }
    }

    private func refused(_ what: String, _ reply: SMTPReply) -> MailError {
        MailError.rejected.with(
            "\(self.settings.server) refused \(what): \(reply)", reply: reply.description,
            temporary: reply.isTemporaryFailure)
    }

    private static func outcome(_ reply: SMTPReply) -> SMTPRecipientOutcome {
        reply.isTemporaryFailure ? .temporary(reply) : .permanent(reply)
    }

    private static func base64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
    }
}
