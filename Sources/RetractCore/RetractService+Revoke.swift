import Foundation
import Mail
import Seal
import Vault

extension RetractService {
    /// Longest reason accepted; it goes into every notice.
    public static let maxReasonLength = 2000

    /// Takes a message back from some or all recipients, in one transaction: destroys their
    /// key material, cancels notifications still held in the undo window, queues the
    /// withdrawal or correction notices (carrying a corrected version when there is one),
    /// deletes the sealed content once nobody can open it, and mails the sender the report.
    ///
    /// Everything the request could get wrong is checked first; any failure afterwards
    /// (a template override that does not render, say) rolls the whole revocation back.
    public func revoke(_ request: RevokeRequest) async throws -> RecallReport {
        guard let message = try vault.message(id: request.messageID) else {
            throw RetractError.messageNotFound(request.messageID)
        }
        if request.notify == .none, request.replacement != nil {
            throw RetractError.invalidInput(
                "--notify none conflicts with a replacement: the corrected version travels in the notice; use --notify all or opened")
        }
        if let reason = request.reason, reason.count > Self.maxReasonLength {
            throw RetractError.invalidInput("the reason is longer than \(Self.maxReasonLength) characters")
        }
        let replacement = try request.replacement.map { r throws(RetractError) in try checkedReplacement(r) }
        let targets = try targetGrantIDs(message: message, recipients: request.recipients)
        let context = try noticeContext(for: message)
        let at = now()

        let report = try vault.revoke(messageID: message.id) { tx in
            try revokeInTransaction(
                tx, request: request, targets: targets, replacement: replacement, context: context, at: at)
        }
        logger.info(
            "message revoked",
            metadata: ["message": "\(message.id)", "recipients": "\(report.recipients.filter { !$0.alreadyRevoked }.count)"])
        _ = await deliverDueMail()
        return report
    }

    /// What every notice of one message needs.
    struct NoticeContext {
        var subject: String
        var sentAt: Date
        var sender: MailAddress
        var service: MailAddress
        var locale: MailLocale
    }

    /// A validated replacement.
    struct CheckedReplacement {
        var subject: String?
        var body: String
        var attachments: [SendPlan.Attachment]
    }

    private func checkedReplacement(_ replacement: RevokeRequest.Replacement) throws(RetractError) -> CheckedReplacement {
        if let subject = replacement.subject, subject.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            throw RetractError(.headerInjection, "the replacement subject contains a line break; mail headers must be one line")
        }
        let attachments = try replacement.attachments.map { url throws(RetractError) in try Self.checkedAttachment(url) }
        return CheckedReplacement(subject: replacement.subject, body: replacement.body, attachments: attachments)
    }

    private func targetGrantIDs(message: MessageRecord, recipients: [String]) throws -> Set<Int64> {
        let grants = try vault.grants(messageID: message.id)
        guard !recipients.isEmpty else { return Set(grants.compactMap(\.id)) }
        var ids: Set<Int64> = []
        for text in recipients {
            let address = (try? MailAddress(parsing: text))?.address ?? text
            guard let grant = grants.first(where: { $0.recipient.lowercased() == address.lowercased() }), let id = grant.id
            else {
                let known = grants.map(\.recipient).joined(separator: ", ")
                throw RetractError.invalidInput("\(text) is not a recipient of message \(message.id); its recipients are \(known)")
            }
            ids.insert(id)
        }
        return ids
    }

    private func noticeContext(for message: MessageRecord) throws -> NoticeContext {
        NoticeContext(
            subject: try subject(of: message), sentAt: message.createdAt, sender: try senderAddress(of: message),
            service: try mailAddress(configuration.serviceAddress, role: "service address (RETRACT_FROM)"),
            locale: (try? MailLocale(parsing: message.locale)) ?? .en)
    }

    /// The body of the revocation transaction.
    private func revokeInTransaction(
        _ tx: RevocationTransaction, request: RevokeRequest, targets: Set<Int64>, replacement: CheckedReplacement?,
        context: NoticeContext, at: Date
    ) throws -> RecallReport {
        let message = tx.message
        let mailDomain = context.service.domain
        let replacementID = replacement.map { _ in MessageID.random() }
        let replacementKey = replacement.map { _ in DataKey.generate() }
        let replacementExpiry = at.addingTimeInterval(configuration.defaultExpiry)

        var rows: [RecallReport.Recipient] = []
        var notices: [OutboxMailRecord] = []
        var newGrants: [NewGrant] = []
        var revoked: [(id: Int64, replaced: Bool)] = []
        for grant in try tx.grants() {
            guard let grantID = grant.id, targets.contains(grantID) else { continue }
            let notification = try tx.notification(grantID: grantID)
            if grant.revokedAt != nil {
                rows.append(
                    .init(
                        address: grant.recipient, kind: grant.kind.rawValue, openedAt: grant.firstOpenedAt,
                        outcome: Self.outcome(cancelled: notification?.state == .cancelled, opened: grant.firstOpenedAt != nil),
                        notice: "none", revokedAt: grant.revokedAt, alreadyRevoked: true, replacementSent: false))
                continue
            }
            let cancelled = try tx.cancelQueuedNotification(grantID: grantID)
            let delivered = !cancelled && notification?.state == .sent
            let opened = grant.firstOpenedAt != nil
            let recipient = try mailAddress(grant.recipient, role: "recipient")

            var notice = "none"
            if delivered {
                switch request.notify {
                case .all: notice = opened || replacement != nil ? "correction" : "withdrawal"
                case .opened: notice = opened ? "correction" : "none"
                case .none: notice = "none"
                }
            }
            var replacementLink: String?
            var replacementSent = false
            if let replacementID, let replacementKey {
                let carrier = MessageIDFactory.make(domain: mailDomain)
                let issued = issueGrant(
                    recipient: grant.recipient, kind: grant.kind, messageID: replacementID, dataKey: replacementKey,
                    notificationMessageID: carrier)
                replacementLink = issued.link
                replacementSent = true
                var freshNotification: OutboxMailRecord?
                if notice == "none" {
                    let mail = try wrapMailError {
                        try templates.notification(
                            NotificationDetails(
                                serviceAddress: context.service, sender: context.sender, recipient: recipient,
                                subject: replacement?.subject ?? context.subject, link: issued.link, sentAt: at,
                                expiresAt: replacementExpiry, attachmentCount: replacement?.attachments.count ?? 0,
                                locale: context.locale, messageID: carrier))
                    }
                    freshNotification = try queuedMail(
                        mail, kind: .notification, messageID: replacementID.description, grantID: nil,
                        recipient: grant.recipient, notBefore: at, createdAt: at)
                }
                newGrants.append(NewGrant(grant: issued.record, notification: freshNotification))
                if notice != "none" {
                    notices.append(
                        try noticeMail(
                            notice, grant: grant, recipient: recipient, context: context, reason: request.reason,
                            replacementLink: replacementLink, messageID: carrier, at: at))
                }
            } else if notice != "none" {
                notices.append(
                    try noticeMail(
                        notice, grant: grant, recipient: recipient, context: context, reason: request.reason,
                        replacementLink: nil, messageID: MessageIDFactory.make(domain: mailDomain), at: at))
            }
            revoked.append((grantID, replacementSent))
            rows.append(
                .init(
                    address: grant.recipient, kind: grant.kind.rawValue, openedAt: grant.firstOpenedAt,
                    outcome: Self.outcome(cancelled: cancelled, opened: opened), notice: notice, revokedAt: at,
                    alreadyRevoked: false, replacementSent: replacementSent))
        }

        if let replacement, let replacementID, let replacementKey, !newGrants.isEmpty {
            try storeReplacement(
                replacement, id: replacementID, dataKey: replacementKey, grants: newGrants, original: message,
                context: context, at: at, expiresAt: replacementExpiry, in: tx)
        }
        for notice in notices { try tx.queue(notice) }
        for (grantID, replaced) in revoked {
            try tx.revokeGrant(
                grantID, at: at, reason: request.reason,
                replacementMessageID: replaced ? replacementID?.description : nil)
        }
        let destroyed = try tx.deleteSealedPartsIfUnreachable()
        let fresh = rows.filter { !$0.alreadyRevoked }
        if !fresh.isEmpty {
            let report = try wrapMailError {
                try templates.recallReport(
                    RecallReportDetails(
                        serviceAddress: context.service, sender: context.sender, originalSubject: context.subject,
                        originalSentAt: context.sentAt, reason: request.reason,
                        rows: fresh.map {
                            RecallReportRow(recipient: $0.address, outcome: $0.outcome, openedAt: $0.openedAt, notice: $0.notice)
                        },
                        locale: context.locale, messageID: MessageIDFactory.make(domain: mailDomain)))
            }
            try tx.queue(
                try queuedMail(
                    report, kind: .report, messageID: message.id, grantID: nil, recipient: context.sender.address,
                    notBefore: at, createdAt: at))
        }
        return RecallReport(
            id: message.id, revokedAt: at, reason: request.reason,
            replacementId: newGrants.isEmpty ? nil : replacementID?.description, recipients: rows,
            contentDestroyed: destroyed)
    }

    static func outcome(cancelled: Bool, opened: Bool) -> String {
        cancelled ? "cancelled_before_delivery" : (opened ? "revoked_after_open" : "revoked_before_open")
    }

    private func noticeMail(
        _ kind: String, grant: GrantRecord, recipient: MailAddress, context: NoticeContext, reason: String?,
        replacementLink: String?, messageID: String, at: Date
    ) throws -> OutboxMailRecord {
        let details = NoticeDetails(
            serviceAddress: context.service, sender: context.sender, recipient: recipient,
            originalSubject: context.subject, originalSentAt: context.sentAt, openedAt: grant.firstOpenedAt,
            reason: reason, replacementLink: replacementLink, originalMessageID: grant.notificationMessageId,
            locale: context.locale, messageID: messageID)
        let mail = try wrapMailError {
            kind == "correction" ? try templates.correctionNotice(details) : try templates.withdrawalNotice(details)
        }
        return try queuedMail(
            mail, kind: kind == "correction" ? .correction : .withdrawal, messageID: grant.messageId, grantID: grant.id,
            recipient: grant.recipient, notBefore: at, createdAt: at)
    }

    private func storeReplacement(
        _ replacement: CheckedReplacement, id: MessageID, dataKey: DataKey, grants: [NewGrant],
        original: MessageRecord, context: NoticeContext, at: Date, expiresAt: Date, in tx: RevocationTransaction
    ) throws {
        let master = keys.active
        let subject = replacement.subject ?? context.subject
        let record = MessageRecord(
            id: id.description, sender: original.sender, senderName: original.senderName,
            sealedSubject: Data(
                GrantCrypto.sealMetadata(Array(subject.utf8), master: master, context: Self.subjectContext(id.description))),
            subjectKid: master.kid, locale: original.locale, createdAt: at, expiresAt: expiresAt,
            maxViews: original.maxViews, deliverAfter: at, partCount: replacement.attachments.count + 1,
            supersedes: original.id)
        let visible = { (kind: GrantRecord.Kind) in grants.filter { $0.grant.kind == kind }.map(\.grant.recipient) }
        try tx.storeReplacement(record, grants: grants) { writer in
            var infos: [AttachmentInfo] = []
            for (offset, attachment) in replacement.attachments.enumerated() {
                let size = try AttachmentSealer.seal(
                    file: attachment.url, dataKey: dataKey, messageID: id, partIndex: offset + 1, into: writer)
                infos.append(AttachmentInfo(index: offset + 1, name: attachment.name, size: size, mediaType: attachment.mediaType))
            }
            let envelope = Envelope(
                subject: subject, from: original.sender, fromName: original.senderName, sentAt: at,
                bodyText: replacement.body, to: visible(.to), cc: visible(.cc), attachments: infos)
            try AttachmentSealer.seal(bytes: try envelope.encoded(), dataKey: dataKey, messageID: id, partIndex: 0, into: writer)
        }
    }
}
