import Foundation
import Mail
import Seal
import Sodium
import Vault

extension RetractService {
    /// The `origin` of messages the SMTP gateway received.
    public static let gatewayOrigin = "gateway"
    /// The name of the sealed copy of a received message, attachment 1 of its envelope.
    public static let originalMessageName = "original.eml"
    /// What the reader shows of a received message without a plain-text part.
    static let noTextBody =
        "This message has no plain-text part. Download the original (original.eml) and open it in your mail program."

    /// Commits a message the SMTP gateway received, in one durable transaction, before it
    /// returns: for the sealed recipients the whole original sealed as attachment 1
    /// (`original.eml`, message/rfc822, streamed from the file), each attachment of it again as
    /// a part of its own (`AttachmentExtractor`), an envelope whose body is the
    /// original's text part, one grant and one notification per recipient; for the others a
    /// pass-through copy each, the original bytes with only `mail.traceField` prepended, to
    /// that envelope recipient from the original envelope sender.
    ///
    /// A `Bcc:` field of the original, and with `mail.removingTag` the seal tag in its Subject
    /// line, are left out of a copy written beside the file (removed afterwards), and that
    /// copy is what is sealed and passed on. Envelope recipients named in neither To nor Cc get Bcc grants. Notifications keep the
    /// subject `mail.subject`, thread where the original would (its In-Reply-To and
    /// References), and have Reply-To the original's Reply-To or else the sender. Nothing is
    /// stored when anything fails (an unreadable file throws `attachmentUnreadable`, a vault
    /// failure `storage`). With `RETRACT_RECEIPTS` on (the default) and a sealed recipient,
    /// the sender's receipt (who got a link, who got the mail) is queued in the same
    /// transaction. The worker delivers the mail afterwards; nothing is sent here.
    ///
    /// The work (reading, sealing, the commit's fsyncs) blocks a thread for as long as it
    /// takes, so it runs on a dispatch thread of its own, not on a thread of Swift's
    /// cooperative pool, which the SMTP connections and the HTTP server share.
    public func acceptIncomingMail(_ mail: IncomingMail, headers: IncomingMailHeaders) async throws(RetractError)
        -> IncomingMailReceipt
    {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<IncomingMailReceipt, RetractError>, Never>) in
            Self.gatewayQueue.async {
                continuation.resume(
                    returning: Result { () throws(RetractError) in try commitIncomingMail(mail, headers: headers) })
            }
        }
        return try result.get()
    }

    /// Makes what the gateway committed survive a power loss before its 250 (the WAL is
    /// synced: `VaultDatabase.syncCommittedWrites`), on the gateway's own threads.
    ///
    /// A failure is `storage`: the gateway answers 451 and the client retries, so the mail
    /// may arrive twice but is never lost (RFC 5321 §6.1 prefers a duplicate to a loss).
    public func makeCommittedMailDurable() async throws(RetractError) {
        let vault = self.vault
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Void, RetractError>, Never>) in
            Self.gatewayQueue.async {
                continuation.resume(
                    returning: Result { () throws(RetractError) in
                        do {
                            try vault.syncCommittedWrites()
                        } catch {
                            throw RetractError(.storage, "could not make the received message durable: \(error)")
                        }
                    })
            }
        }
        try result.get()
    }

    /// Where `acceptIncomingMail` does its blocking work: concurrent, so two messages seal at
    /// once (their commits are serialised by the vault).
    static let gatewayQueue = DispatchQueue(
        label: "retract.gateway-commit", qos: .userInitiated, attributes: .concurrent)

    /// `acceptIncomingMail`'s work, on the calling thread.
    func commitIncomingMail(_ mail: IncomingMail, headers: IncomingMailHeaders) throws(RetractError)
        -> IncomingMailReceipt
    {
        guard !mail.recipients.isEmpty else {
            throw RetractError(.noRecipients, "the message has no envelope recipients")
        }
        guard mail.recipients.count <= configuration.maxRecipients else {
            throw .invalidInput(
                "the message has \(mail.recipients.count) recipients; at most \(configuration.maxRecipients) are allowed (RETRACT_MAX_RECIPIENTS)"
            )
        }
        guard !HeaderText.containsLineBreak(mail.traceField), mail.traceField.utf8.count <= 998,
            mail.traceField.lowercased().hasPrefix("received:")
        else {
            throw .invalidInput("the trace field must be one Received: line of at most 998 octets")
        }
        let senderAddress = try mailAddress(mail.sender, role: "sender")
        let senderName =
            (headers.from?.address.lowercased() == senderAddress.address.lowercased()
            ? headers.from?.displayName : nil).map { HeaderText.oneLine($0, fallback: "") }.flatMap {
                $0.isEmpty ? nil : $0
            }
        let sender = try wrapMailError { try MailAddress(address: senderAddress.address, displayName: senderName) }
        var subject = HeaderText.oneLine(mail.subject, fallback: "")
        if subject.unicodeScalars.count > Self.maxSubjectLength {
            subject = String(String.UnicodeScalarView(subject.unicodeScalars.prefix(Self.maxSubjectLength)))
        }

        let createdAt = now()
        let messageID = MessageID.random()
        // Random like DataKey.generate(), kept as bytes: the pass-through rows carry it.
        let messageKey = SecureBytes.random(count: DataKey.byteCount)
        let dataKey = try PassThroughCopy.dataKey(messageKey)
        let master = keys.active
        let expiresAt = createdAt.addingTimeInterval(configuration.defaultExpiry)
        let serviceAddress = try mailAddress(configuration.serviceAddress, role: "service address (RETRACT_FROM)")
        let named = Dictionary(
            (headers.to.map { ($0, GrantRecord.Kind.to) } + headers.cc.map { ($0, .cc) })
                .map { ($0.0.address.lowercased(), ($0.0, $0.1)) }, uniquingKeysWith: { first, _ in first })

        var seen: Set<String> = []
        var sealedRecipients: [(address: MailAddress, kind: GrantRecord.Kind)] = []
        var passRecipients: [String] = []
        for recipient in mail.recipients where seen.insert(recipient.address.lowercased()).inserted {
            if recipient.sealed {
                let bare = try mailAddress(recipient.address, role: "recipient")
                let known = named[bare.address.lowercased()]
                let address = (try? MailAddress(address: bare.address, displayName: known?.0.displayName)) ?? bare
                sealedRecipients.append((address, known?.1 ?? .bcc))
            } else {
                passRecipients.append(recipient.address)
            }
        }

        // The bytes that leave: the original, or its copy without Bcc fields and seal tag.
        let cleaned = try CleanedCopy.make(of: mail.file, removing: mail.removingTag)
        defer { if let cleaned { try? FileManager.default.removeItem(at: cleaned) } }
        let source = cleaned ?? mail.file
        let size = try Self.fileSize(source)
        let sealsOriginal = !sealedRecipients.isEmpty
        // Each attachment of the original also becomes a part of its own, for the reader.
        // The same pass keeps the text and HTML bodies, decoded from their charsets, for the reader.
        let extraction =
            sealsOriginal
            ? AttachmentExtractor.extractWithBodies(
                from: source, into: source.deletingLastPathComponent(), limit: max(0, configuration.maxAttachments - 1))
            : AttachmentExtractor.Extraction()
        let extracted = extraction.parts
        defer { for part in extracted { try? FileManager.default.removeItem(at: part.url) } }
        // MIME the streaming pass could not split: a small message is parsed whole instead.
        let fallback =
            sealsOriginal && extraction.text == nil && extraction.html == nil && !extraction.htmlTooLarge
            ? IncomingMailHeaders.fallbackBodies(file: source) : nil
        let html = extraction.htmlTooLarge ? nil : (extraction.html ?? fallback?.html)
        // Without a text part, the HTML's text is the plain-text view (and the API's body_text).
        let body =
            (extraction.text ?? fallback?.text).flatMap { $0.isEmpty ? nil : $0 }
            ?? html.map(HTMLSanitizer.plainText).flatMap { $0.isEmpty ? nil : $0 } ?? Self.noTextBody
        // The pre-send checks a draft gets, on the mail as it came; their warnings go into the
        // receipt and may hold the notifications longer (RETRACT_GATEWAY_HOLD_FINDINGS).
        let warnings =
            sealsOriginal
            ? PreSendCheck.findings(
                sender: sender.address, subject: subject, body: body == Self.noTextBody ? "" : body,
                attachmentCount: extracted.count, recipients: mail.recipients.map(\.address),
                visibleRecipients: (headers.to + headers.cc).map(\.address)
            ).filter { $0.severity == .warning } : []
        let deliverAfter = createdAt.addingTimeInterval(configuration.gatewayHold(hasWarnings: !warnings.isEmpty))
        var newGrants: [NewGrant] = []
        var sealed: [(address: String, link: String)] = []
        for recipient in sealedRecipients {
            let rfcMessageID = MessageIDFactory.make(domain: serviceAddress.domain)
            let issued = issueGrant(
                recipient: recipient.address.address, kind: recipient.kind, messageID: messageID, dataKey: dataKey,
                notificationMessageID: rfcMessageID)
            var notification = try wrapMailError {
                try templates.notification(
                    NotificationDetails(
                        serviceAddress: serviceAddress, sender: sender, recipient: recipient.address, subject: subject,
                        link: issued.link, sentAt: createdAt, expiresAt: expiresAt,
                        attachmentCount: 1 + extracted.count, locale: .en,
                        messageID: rfcMessageID))
            }
            notification.replyTo = headers.replyTo ?? sender
            notification.inReplyTo = headers.inReplyTo
            notification.references = headers.references
            newGrants.append(
                NewGrant(
                    grant: issued.record,
                    notification: try queuedMail(
                        notification, kind: .notification, messageID: messageID.description, grantID: nil,
                        recipient: recipient.address.address, notBefore: deliverAfter, createdAt: createdAt,
                        mailFrom: serviceAddress.address)))
            sealed.append((recipient.address.address, issued.link))
        }

        // The pass-through copy is stored once, as part 1; each recipient's row refers to it.
        var passMail: [OutboxMailRecord] = []
        let passCopy = passRecipients.isEmpty ? nil : PassThroughCopy(key: messageKey, traceField: mail.traceField)
        if let passCopy {
            passMail = passThroughRows(
                passCopy, recipients: passRecipients, messageID: messageID, envelopeSender: mail.envelopeSender,
                rfcMessageID: headers.messageID ?? MessageIDFactory.make(domain: serviceAddress.domain),
                createdAt: createdAt)
        }

        // The receipt carries the sender's manage link; the vault keeps only its hash.
        let manageLink =
            sealsOriginal && configuration.gatewayReceipts ? ManageLink.make(publicBase: configuration.publicURL) : nil
        // Its Reply-To is the recall address: a reply to it revokes (revoke by reply).
        let recallAddress = manageLink.map { _ in RecallAddress.make(domain: configuration.effectiveRecallDomain) }
        if let manageLink {
            let receipt = try wrapMailError {
                try templates.gatewayReceipt(
                    GatewayReceiptDetails(
                        serviceAddress: serviceAddress, sender: sender, subject: subject, sentAt: createdAt,
                        vaultMessageID: messageID.description, linkRecipients: sealed.map(\.address),
                        directRecipients: passRecipients, manageLink: manageLink.url,
                        recallAddress: try recallAddress.map { try MailAddress(address: $0.address, displayName: "Retract") },
                        originalMessageID: headers.messageID,
                        heldUntil: deliverAfter > createdAt ? deliverAfter : nil,
                        findings: warnings.map(\.message),
                        messageID: Self.receiptMessageID(messageID: messageID.description, domain: serviceAddress.domain)))
            }
            passMail.append(
                try queuedMail(
                    receipt, kind: .receipt, messageID: messageID.description, grantID: nil, recipient: sender.address,
                    notBefore: createdAt, createdAt: createdAt, mailFrom: serviceAddress.address))
        }
        let message = MessageRecord(
            id: messageID.description, sender: sender.address, senderName: sender.displayName,
            sealedSubject: Data(
                GrantCrypto.sealMetadata(
                    Array(subject.utf8), master: master, context: Self.subjectContext(messageID.description))),
            subjectKid: master.kid, locale: MailLocale.en.rawValue, createdAt: createdAt, expiresAt: expiresAt,
            maxViews: nil, deliverAfter: deliverAfter, partCount: sealsOriginal ? 2 + extracted.count : 1,
            origin: Self.gatewayOrigin)
        do {
            try vault.storeSealedMessage(
                message, grants: newGrants, mail: passMail,
                capabilities: (manageLink.map { [($0.hash, .manage)] } ?? [])
                    + (recallAddress.map { [($0.hash, .reply)] } ?? [])
            ) { writer in
                // With outsiders part 1 is the sealed original (below), which the copy shares.
                if let passCopy, !sealsOriginal {
                    try Self.sealPassThroughCopy(passCopy, file: source, size: size, messageID: messageID, into: writer)
                }
                var infos: [AttachmentInfo] = []
                if sealsOriginal {
                    let sealedSize = try AttachmentSealer.seal(
                        file: source, dataKey: dataKey, messageID: messageID, partIndex: 1, into: writer)
                    guard sealedSize == size else {
                        throw RetractError(.attachmentUnreadable, "the received message changed while it was sealed")
                    }
                    infos.append(
                        AttachmentInfo(
                            index: 1, name: Self.originalMessageName, size: sealedSize, mediaType: "message/rfc822"))
                }
                for (offset, part) in extracted.enumerated() {
                    let index = offset + 2
                    let partSize = try AttachmentSealer.seal(
                        file: part.url, dataKey: dataKey, messageID: messageID, partIndex: index, into: writer)
                    infos.append(
                        AttachmentInfo(
                            index: index, name: part.name, size: partSize, mediaType: part.mediaType,
                            contentID: part.contentID))
                }
                // Without a sealed recipient the envelope holds no body: the copies went out as they came.
                let envelope = Envelope(
                    subject: subject, from: sender.address, fromName: sender.displayName, sentAt: createdAt,
                    bodyText: sealsOriginal ? body : "", to: headers.to.map(\.description),
                    cc: headers.cc.map(\.description), attachments: infos, bodyHTML: sealsOriginal ? html : nil)
                try AttachmentSealer.seal(
                    bytes: try envelope.encoded(), dataKey: dataKey, messageID: messageID, partIndex: 0, into: writer)
            }
        } catch let error as RetractError {
            throw error
        } catch {
            throw RetractError(.storage, "could not store the received message, nothing was kept: \(error)")
        }
        logger.info(
            "gateway message committed",
            metadata: [
                "message": "\(messageID)", "sealed": "\(sealed.count)", "passed_through": "\(passRecipients.count)",
            ])
        return IncomingMailReceipt(messageID: messageID.description, sealed: sealed, passedThrough: passRecipients)
    }

    /// The sender account for `address`, created (without a password; the operator can set
    /// one later) when there is none yet: the first gateway mail of a colleague in an
    /// internal domain files it under a new account.
    public func ensureGatewaySender(address: String, name: String?) throws(RetractError) -> SenderAccount {
        let mailbox = try mailAddress(address, role: "sender address")
        do {
            if let record = try vault.sender(address: mailbox.address.lowercased())
                ?? vault.sender(address: mailbox.address)
            {
                return SenderAccount(record)
            }
            let cleaned = name.map { HeaderText.oneLine($0, fallback: "") }.flatMap { $0.isEmpty ? nil : $0 }
            let (_, hash) = Self.makeSenderToken()
            let record = SenderRecord(address: mailbox.address, name: cleaned, tokenHash: hash, createdAt: now())
            if try vault.insertSender(record) {
                logger.info("sender created by the gateway", metadata: ["sender": "\(mailbox.address)"])
                return SenderAccount(record)
            }
            // Another message created it meanwhile.
            guard let record = try vault.sender(address: mailbox.address) else {
                throw RetractError.senderNotFound(mailbox.address)
            }
            return SenderAccount(record)
        } catch let error as RetractError {
            throw error
        } catch {
            throw RetractError(.storage, "could not read or create the sender \(mailbox.address): \(error)")
        }
    }

    /// The lower-case domains of the sender accounts: the internal domains when
    /// `RETRACT_INTERNAL_DOMAINS` is unset.
    public func senderDomains() throws(RetractError) -> [String] {
        do {
            var domains: [String] = []
            for record in try vault.senders() {
                guard let at = record.address.lastIndex(of: "@") else { continue }
                let domain = record.address[record.address.index(after: at)...].lowercased()
                if !domains.contains(domain) { domains.append(domain) }
            }
            return domains
        } catch {
            throw RetractError(.storage, "could not read the sender accounts: \(error)")
        }
    }

    /// Checks SMTP AUTH credentials: the sender's address with their web password or their
    /// API token; the account when they are right.
    ///
    /// Counted against the web sign-in's limits (5 failures per account and 20 per client in
    /// 15 minutes, persisted), checked before any hashing; a success takes its count back.
    public func authenticateSubmission(address: String, secret: String, client: String?) async throws(SignInFailure)
        -> SenderAccount
    {
        let limiter = rateLimiter
        let (accountSubject, attempt) = try beginSignInAttempt(address: address, client: client, at: now())

        var account: SenderAccount?
        if secret.hasPrefix(Self.senderTokenPrefix), let owner = await sender(bearerToken: secret),
            owner.address.lowercased() == accountSubject
        {
            account = owner
        } else if !secret.hasPrefix(Self.senderTokenPrefix) {
            if let record = try await verifiedPassword(secret, of: accountSubject, attempt: attempt, client: client) {
                account = SenderAccount(record)
            }
        }
        guard let account else {
            logger.notice("SMTP AUTH refused", metadata: ["client": "\(client ?? "unknown")"])
            throw .invalidCredentials
        }
        try? limiter.withdraw(attempt)
        try? await limiter.reset(scope: Self.signInAccountScope, subject: accountSubject)
        return account
    }

    /// The Message-ID of a gateway message's receipt, `<receipt.<id>@<domain>>`: derived from
    /// the message, so every recall report threads under the receipt without storing it.
    static func receiptMessageID(messageID: String, domain: String) -> String {
        "<receipt.\(messageID)@\(domain)>"
    }

    /// The size of a regular file, or `attachmentUnreadable`.
    static func fileSize(_ url: URL) throws(RetractError) -> Int64 {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            guard attributes[.type] as? FileAttributeType == .typeRegular, let size = attributes[.size] as? NSNumber
            else {
                throw RetractError(.attachmentUnreadable, "the received message \(url.path) is not a regular file")
            }
            return size.int64Value
        } catch let error as RetractError {
            throw error
        } catch {
            throw RetractError(.attachmentUnreadable, "the received message \(url.path) cannot be read: \(error)")
        }
    }
}
