import Foundation
import Logging
import Mail
import RetractCore
import RetractMetrics
import SMTP

/// The SMTP server's hand-over to the vault: reads each received message's headers, asks
/// `GatewayPolicy` what happens per recipient, and commits it through
/// `RetractService.acceptIncomingMail` before answering, so a 250 means "committed", and
/// synced to disk (`RetractService.makeCommittedMailDurable`), also against a power loss.
///
/// A storage or local read failure answers `temporaryFailure` (451: the client keeps the
/// mail and retries); a sender outside the internal domains, or an authenticated session
/// whose From is another account, answers `permanentFailure`.
public struct GatewayAcceptor: SMTPMessageAcceptor {
    /// The service the messages are committed through.
    public let service: RetractService
    /// The name this host gives itself in `Received:` lines.
    public let hostName: String
    private let logger: Logger

    /// An acceptor over `service`; `hostName` defaults to the service address's domain.
    public init(service: RetractService, hostName: String? = nil, logger: Logger = Logger(label: "retract.gateway")) {
        self.service = service
        self.hostName =
            hostName ?? service.configuration.serviceAddress.split(separator: "@").last.map(String.init) ?? "localhost"
        self.logger = logger
    }

    /// The policy in force now: the configured internal domains, or the sender accounts' ones.
    public func policy() throws(RetractError) -> GatewayPolicy {
        let configuration = service.configuration
        let senderDomains = configuration.gatewayInternalDomains.isEmpty ? try service.senderDomains() : []
        return GatewayPolicy(configuration: configuration, senderDomains: senderDomains)
    }

    /// Takes a complete message; returns only when it is committed (or refused).
    ///
    /// Envelope recipients that are recall addresses (replies to receipts) are acted on
    /// first (`RetractService.handleRevokeReply`) and never relayed; the others, if any, are
    /// handled as mail to pass or seal.
    public func accept(_ message: SMTPReceivedMessage) async -> SMTPAcceptance {
        let answer = await acceptCommitted(message)
        guard case .accepted = answer else { return answer }
        // A 250 takes responsibility for the mail: what was committed must survive a power
        // loss, not only a crash of the process.
        do {
            try await service.makeCommittedMailDurable()
        } catch {
            logger.error("a committed message could not be made durable", metadata: ["error": "\(error.description)"])
            return .temporaryFailure("cannot store the message now; try again later")
        }
        service.metrics.count(.gatewayMessages, ["outcome": "accepted"])
        return answer
    }

    /// What `accept` answers, before the commit is made durable.
    func acceptCommitted(_ message: SMTPReceivedMessage) async -> SMTPAcceptance {
        var message = message
        let domain = service.configuration.effectiveRecallDomain
        let replies = message.recipients.filter { RecallAddress.isRecallAddress($0, domain: domain) }
        if !replies.isEmpty {
            let answer = await acceptReplies(message, to: replies)
            message.recipients.removeAll { replies.contains($0) }
            guard !message.recipients.isEmpty, case .accepted = answer else { return answer }
        }
        do {
            let receipt = try await commit(message)
            countCommitted(receipt)
            return .accepted("queued as \(receipt.messageID)")
        } catch {
            service.metrics.count(.gatewayMessages, ["outcome": "refused"])
            logger.notice(
                "gateway refused a message",
                metadata: ["client": "\(message.client.address)", "error": "\(error.description)"])
            switch error.code {
            case .storage, .attachmentUnreadable, .keys:
                return .temporaryFailure("cannot store the message now; try again later")
            default:
                return .permanentFailure(error.description)
            }
        }
    }

    /// Acts on a reply to each recall address: 250 when every one was acted on or ignored
    /// (automatic mail, no command), 550 for an unknown or retired address, 451 when a
    /// limit or the vault says later.
    func acceptReplies(_ message: SMTPReceivedMessage, to addresses: [String]) async -> SMTPAcceptance {
        var done: [String] = []
        for address in addresses {
            let reply = RevokeReply(
                file: message.file, recallAddress: address, envelopeSender: message.mailFrom,
                client: message.client.address, authenticatedAs: message.client.authenticatedAs,
                trustedClient: message.client.trusted)
            do {
                switch try await service.handleRevokeReply(reply) {
                case .revoked(let report, let correctionSent):
                    done.append("revoked \(report.recipients.count)" + (correctionSent ? " with a correction" : ""))
                case .ignored(let why):
                    done.append("nothing done: \(why)")
                case .unknownAddress:
                    return .unknownRecipient("unknown or retired recall address; nothing was revoked")
                case .limited(let retryAfter):
                    return .temporaryFailure("too many replies; try again in \(retryAfter) seconds")
                }
            } catch {
                logger.notice("a reply to a recall address failed", metadata: ["error": "\(error.description)"])
                switch error.code {
                case .storage, .attachmentUnreadable, .keys:
                    return .temporaryFailure("cannot act on the reply now; try again later")
                default:
                    return .permanentFailure(error.description)
                }
            }
        }
        return .accepted(done.joined(separator: "; "))
    }

    /// Checks AUTH credentials (a sender's web password or API token) with the sign-in
    /// limits; the account's address when they are right, nil otherwise.
    public func authenticate(username: String, password: String, client: String) async -> String? {
        guard
            case .authenticated(let account) = await verifyCredentials(
                username: username, password: password, client: client)
        else { return nil }
        return account
    }

    /// Checks AUTH credentials like `authenticate`, telling a wrong secret (535) from a
    /// limited attempt (5 failures per account or 20 per client in 15 minutes, or too many
    /// password checks at once: 454), which is refused before anything is hashed.
    public func verifyCredentials(username: String, password: String, client: String) async
        -> SMTPAuthenticationOutcome
    {
        do {
            let account = try await service.authenticateSubmission(address: username, secret: password, client: client)
            return .authenticated(account.address)
        } catch .tooManyAttempts {
            return .temporarilyRefused
        } catch {
            return .rejected
        }
    }

    /// What `accept` does, with the failure as a `RetractError`.
    func commit(_ message: SMTPReceivedMessage) async throws(RetractError) -> IncomingMailReceipt {
        let headers = try IncomingMailHeaders.read(file: message.file)
        let policy = try policy()
        let sender: MailAddress
        if let from = headers.from {
            sender = from
        } else {
            do {
                sender = try MailAddress(parsing: message.mailFrom)
            } catch {
                throw RetractError(.invalidAddress, "the message has no From and no envelope sender to file it under")
            }
        }
        if let account = message.client.authenticatedAs, account.lowercased() != sender.address.lowercased() {
            throw RetractError(.invalidAddress, "From \(sender.address) is not the account \(account) that signed in")
        }
        guard policy.isInternal(sender.address) else {
            throw RetractError(
                .invalidAddress, "the sender \(sender.address) is not in an internal domain; relaying refused")
        }
        let account = try service.ensureGatewaySender(address: sender.address, name: sender.displayName)
        let decisions = policy.decide(subject: headers.subject, recipients: message.recipients)
        let mail = IncomingMail(
            file: message.file, envelopeSender: message.mailFrom, sender: account.address,
            recipients: decisions.map { .init(address: $0.recipient, sealed: $0.action == .seal) },
            subject: policy.cleanedSubject(headers.subject), traceField: traceField(for: message),
            removingTag: policy.isTagged(headers.subject) ? policy.tag : nil)
        // A native recall request revokes the sealed message it means (only reached from an
        // authenticated or trusted client: the SMTP server relays for nobody else).
        if let recall = RecallRequest.recognise(
            headers: headers, file: message.file, prefixes: service.configuration.recallPrefixes)
        {
            let handled = try await service.handleRecall(
                mail, headers: headers, originalSubject: policy.cleanedSubject(recall.originalSubject))
            logger.info("native recall request handled", metadata: ["form": "\(recall.form.rawValue)"])
            let passed = message.recipients.map { $0 }
            switch handled {
            case .revoked(let messageID, let report, let passedOn):
                let revoked = Set(report.recipients.map { $0.address.lowercased() })
                return IncomingMailReceipt(
                    messageID: passedOn ?? messageID, sealed: [],
                    passedThrough: passed.filter { !revoked.contains($0.lowercased()) })
            case .ambiguous(let candidates, let passedOn):
                return IncomingMailReceipt(messageID: passedOn ?? candidates[0], sealed: [], passedThrough: passed)
            case .unmatched(let passedOn):
                return IncomingMailReceipt(messageID: passedOn ?? "", sealed: [], passedThrough: passed)
            }
        }
        return try await service.acceptIncomingMail(mail, headers: headers)
    }

    /// `Received: from HELO (ADDR) by HOST with ESMTP[S][A]; DATE` (RFC 5321 §4.4), with
    /// the forwarded client when a content filter passed one.
    func traceField(for message: SMTPReceivedMessage) -> String {
        let client = message.client
        let helo = Self.token(client.forwarded["HELO"] ?? client.heloName)
        let address = Self.token(client.forwarded["ADDR"] ?? client.address)
        let proto = "ESMTP" + (client.tls ? "S" : "") + (client.authenticatedAs == nil ? "" : "A")
        let date = MailDateFormat.rfc5322(service.now())
        return "Received: from \(helo) (\(address)) by \(Self.token(hostName)) (Retract) with \(proto); \(date)"
    }

    /// A header-safe word: printable ASCII without blanks, parentheses or `;`, at most 255.
    static func token(_ text: String) -> String {
        let kept = text.unicodeScalars.filter {
            $0.value > 0x20 && $0.value < 0x7F && !"();\\".unicodeScalars.contains($0)
        }
        let word = String(String.UnicodeScalarView(kept.prefix(255)))
        return word.isEmpty ? "unknown" : word
    }


}
