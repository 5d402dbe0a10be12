import Foundation

extension MailTemplates {
    /// The receipt to a sender whose mail the SMTP gateway sealed: who got a personal link
    /// (revocable), who got the mail directly, the sender's manage link (the message's page
    /// without a password) and the vault message id; with a hold, until when the links wait
    /// and can be cancelled, and the pre-send checks' warnings.
    ///
    /// From the service itself (labelled "Retract"), to the sender, threaded under the
    /// original (In-Reply-To its Message-ID), `Auto-Submitted: auto-generated`.
    public func gatewayReceipt(_ r: GatewayReceiptDetails) throws(MailError) -> MailMessage {
        var data = Self.people(sender: r.sender, recipient: nil)
        data["subject"] = r.subject
        data["sentAt"] = MailDateFormat.body(r.sentAt, locale: r.locale)
        data["messageId"] = r.vaultMessageID
        data["linkRecipients"] = r.linkRecipients.map { ["address": $0] }
        data["directRecipients"] = r.directRecipients.map { ["address": $0] }
        data["hasLinkRecipients"] = !r.linkRecipients.isEmpty
        data["hasDirectRecipients"] = !r.directRecipients.isEmpty
        if let link = r.manageLink { data["manageLink"] = link }
        if r.recallAddress != nil { data["replyToRevoke"] = true }
        if let heldUntil = r.heldUntil { data["heldUntil"] = MailDateFormat.body(heldUntil, locale: r.locale, seconds: true) }
        if !r.findings.isEmpty {
            data["findings"] = r.findings.map { ["text": $0] }
            data["hasFindings"] = true
        }
        return try serviceMail(
            from: r.serviceAddress, to: r.sender,
            parts: try self.render("gateway-receipt", locale: r.locale, data: data), messageID: r.messageID,
            locale: r.locale, replyTo: r.recallAddress, inReplyTo: r.originalMessageID)
    }
}
