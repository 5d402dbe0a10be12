import Foundation
import Seal
import Vault

extension RetractService {
    /// The full state of one message, with its access log.
    public func status(messageID: String) throws -> MessageStatus {
        guard let message = try vault.message(id: messageID) else { throw RetractError.messageNotFound(messageID) }
        let grants = try vault.grants(messageID: messageID)
        let recipientByGrant = Dictionary(grants.compactMap { g in g.id.map { ($0, g.recipient) } }, uniquingKeysWith: { a, _ in a })
        let at = now()
        let noticesByGrant = Dictionary(
            grouping: try vault.outboxMail(messageID: messageID).filter { $0.kind == .withdrawal || $0.kind == .correction },
            by: \.grantId)
        let linkMail = try vault.linkMail(messageID: messageID)
        let recipients = grants.map { grant in
            let mail = linkMail[grant.notificationMessageId]
            let expired = (message.expiresAt.map { $0 <= at } ?? false)
            return MessageStatus.Recipient(
                address: grant.recipient, kind: grant.kind.rawValue,
                state: grant.revokedAt != nil ? "revoked" : (expired ? "expired" : "live"),
                views: grant.views, firstOpenedAt: grant.firstOpenedAt, lastOpenedAt: grant.lastOpenedAt,
                revokedAt: grant.revokedAt, revokeReason: grant.revokeReason,
                delivery: mail?.state.rawValue ?? "none", deliveredAt: mail?.sentAt, deliveryError: mail?.lastError,
                replacementId: grant.replacementMessageId, deliveryAttempts: mail?.attempts ?? 0,
                notices: (noticesByGrant[grant.id] ?? []).map {
                    MessageStatus.Notice(
                        kind: $0.kind.rawValue, delivery: $0.state.rawValue, deliveredAt: $0.sentAt,
                        deliveryError: $0.lastReply ?? $0.lastError)
                })
        }
        let log = try vault.accessEvents(messageID: messageID).map { event in
            MessageStatus.Access(
                at: event.at, recipient: event.grantId.flatMap { recipientByGrant[$0] } ?? "?",
                result: event.result.rawValue)
        }
        return MessageStatus(
            id: message.id, sender: message.sender, subject: try subject(of: message), locale: message.locale,
            createdAt: message.createdAt, expiresAt: message.expiresAt, maxViews: message.maxViews,
            deliverAfter: message.deliverAfter, attachments: message.partCount - 1, supersedes: message.supersedes,
            contentAvailable: grants.contains { $0.isLive }, recipients: recipients,
            accessLog: log, origin: message.origin)
    }

    /// Every message, newest first.
    public func list() throws -> [MessageSummary] {
        try vault.messageSummaries().map { row in
            MessageSummary(
                id: row.message.id, sender: row.message.sender, subject: (try? subject(of: row.message)) ?? "?",
                createdAt: row.message.createdAt, recipients: row.recipients, opened: row.opened, revoked: row.revoked,
                origin: row.message.origin)
        }
    }

    /// The subject, unsealed with the master key.
    func subject(of message: MessageRecord) throws -> String {
        let master = try keys.key(message.subjectKid)
        let bytes = try GrantCrypto.openMetadata(
            [UInt8](message.sealedSubject), master: master, context: Self.subjectContext(message.id))
        return String(decoding: bytes, as: UTF8.self)
    }
}
