import Foundation
import Mail
import Vault

extension RetractService {
    /// The mail one recipient would get if a revocation ran now, rendered but not queued.
    public struct NoticePreview: Sendable, Equatable {
        /// The recipient's address.
        public var recipient: String
        /// `to`, `cc` or `bcc`.
        public var kind: String
        /// First successful open, nil if never opened.
        public var openedAt: Date?
        /// The outcome the revocation would have: `cancelled_before_delivery`,
        /// `revoked_before_open`, `revoked_after_open`, or `already_revoked`.
        public var outcome: String
        /// The mail: `withdrawal`, `correction`, `replacement` (the corrected version's own
        /// notification, for someone who gets no notice) or `none`.
        public var notice: String
        /// The mail's subject; empty when no mail goes out.
        public var subject: String
        /// The mail's text part; empty when no mail goes out.
        public var text: String
    }

    /// Stands in for a corrected version's personal link, which does not exist before the
    /// revocation runs.
    public static let previewLinkPlaceholder = "/m/personal-link-to-the-corrected-version"

    /// What each recipient a revocation targets would be mailed, rendered with the same
    /// templates and the same rules as `revoke(_:)`, without changing anything.
    ///
    /// A sender checks the wording before confirming; the message must be theirs (another
    /// sender's id fails exactly like an unknown one).
    public func noticePreview(_ request: RevokeRequest, sender: String) throws -> [NoticePreview] {
        try requireOwnership(messageID: request.messageID, sender: sender)
        guard let message = try vault.message(id: request.messageID) else {
            throw RetractError.messageNotFound(request.messageID)
        }
        _ = try checkedRevokeRequest(request)
        let grants = try vault.grants(messageID: message.id)
        let wanted = Set(
            request.recipients.map { ((try? MailAddress(parsing: $0))?.address ?? $0).lowercased() })
        for name in wanted where !grants.contains(where: { $0.recipient.lowercased() == name }) {
            throw RetractError.notARecipient(name, messageID: message.id, recipients: grants.map(\.recipient))
        }
        let targets = wanted.isEmpty ? grants : grants.filter { wanted.contains($0.recipient.lowercased()) }
        let linkMail = try vault.linkMail(messageID: message.id)
        let context = try noticeContext(for: message)
        let (service, senderAddress, originalSubject, locale) = (
            context.service, context.sender, context.subject, context.locale
        )
        let at = now()
        let placeholderLink = configuration.publicURL + Self.previewLinkPlaceholder
        let previewID = "<preview@\(service.domain)>"

        return try targets.map { grant in
            var preview = NoticePreview(
                recipient: grant.recipient, kind: grant.kind.rawValue, openedAt: grant.firstOpenedAt, outcome: "",
                notice: "none", subject: "", text: "")
            if grant.revokedAt != nil {
                preview.outcome = "already_revoked"
                return preview
            }
            let state = linkMail[grant.notificationMessageId]?.state
            let cancelled = state == .queued || state == .retrying
            let delivered = !cancelled && state == .sent
            let opened = grant.firstOpenedAt != nil
            preview.outcome = Self.outcome(cancelled: cancelled, opened: opened)
            if delivered {
                switch request.notify {
                case .all: preview.notice = opened || request.replacement != nil ? "correction" : "withdrawal"
                case .opened: preview.notice = opened ? "correction" : "none"
                case .none: preview.notice = "none"
                }
            }
            if preview.notice == "none", request.replacement == nil { return preview }
            let recipient = try mailAddress(grant.recipient, role: "recipient")
            let mail: MailMessage = try wrapMailError {
                if preview.notice == "none", let replacement = request.replacement {
                    preview.notice = "replacement"
                    return try templates.notification(
                        NotificationDetails(
                            serviceAddress: service, sender: senderAddress, recipient: recipient,
                            subject: replacement.subject ?? originalSubject, link: placeholderLink, sentAt: at,
                            expiresAt: at.addingTimeInterval(configuration.defaultExpiry),
                            attachmentCount: replacement.attachments.count, locale: locale, messageID: previewID))
                }
                let details = NoticeDetails(
                    serviceAddress: service, sender: senderAddress, recipient: recipient,
                    originalSubject: originalSubject, originalSentAt: message.createdAt, openedAt: grant.firstOpenedAt,
                    reason: request.reason, replacementLink: request.replacement == nil ? nil : placeholderLink,
                    originalMessageID: grant.notificationMessageId, locale: locale, messageID: previewID)
                return preview.notice == "correction"
                    ? try templates.correctionNotice(details) : try templates.withdrawalNotice(details)
            }
            preview.subject = mail.subject
            preview.text = mail.textBody
            return preview
        }
    }
}
