import Foundation

extension MailTemplates {
    /// The mail to a sender whose Outlook recall matched several sealed messages: none was
    /// revoked, and each candidate comes with its own manage link.
    ///
    /// From the service itself (labelled "Retract"), `Auto-Submitted: auto-replied`.
    public func recallCandidates(_ r: RecallCandidatesDetails) throws(MailError) -> MailMessage {
        var data = Self.people(sender: r.sender, recipient: nil)
        data["subject"] = r.subject
        data["count"] = r.candidates.count
        data["candidates"] = r.candidates.map {
            [
                "sentAt": MailDateFormat.body($0.sentAt, locale: r.locale),
                "recipients": $0.recipients.joined(separator: ", "), "manageLink": $0.manageLink,
                "messageId": $0.vaultMessageID,
            ] as [String: Any]
        }
        return try serviceMail(
            from: r.serviceAddress, to: r.sender,
            parts: try self.render("recall-candidates", locale: r.locale, data: data), messageID: r.messageID,
            locale: r.locale, autoSubmitted: "auto-replied")
    }
}
