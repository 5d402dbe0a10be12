import Foundation
import Mail
import Vault

/// A draft after validation: parsed addresses, checked files, resolved defaults.
struct SendPlan {
    struct Recipient {
        var address: MailAddress
        var kind: GrantRecord.Kind
    }

    struct Attachment {
        var url: URL
        var name: String
        var mediaType: String
    }

    var sender: MailAddress
    var recipients: [Recipient]
    var visibleTo: [String]
    var visibleCc: [String]
    var attachments: [Attachment]
    var locale: MailLocale
    var delay: TimeInterval
    var expiresIn: TimeInterval
    var findings: [Finding]
}

extension RetractService {
    /// Validates a draft completely before anything is sealed or stored.
    func prepare(_ draft: Draft) throws(RetractError) -> SendPlan {
        let sender = try mailAddress(draft.from, role: "--from")
        for (name, value) in [("subject", draft.subject), ("sender name", sender.displayName ?? "")]
        where HeaderText.containsLineBreak(value) {
            throw RetractError(.headerInjection, "the \(name) contains a line break; mail headers must be one line")
        }
        try Self.checkSubjectLength(draft.subject, option: "--subject")
        let recipientCount = draft.to.count + draft.cc.count + draft.bcc.count
        guard recipientCount <= configuration.maxRecipients else {
            throw RetractError.invalidInput(
                "--to has \(recipientCount) recipients (To, Cc and Bcc together); at most \(configuration.maxRecipients) are allowed (RETRACT_MAX_RECIPIENTS)")
        }
        try checkAttachmentCount(draft.attachments.count, option: "--attach")
        var recipients: [SendPlan.Recipient] = []
        var named: [String] = []
        var seen: Set<String> = []
        for (kind, list, option) in [(GrantRecord.Kind.to, draft.to, "--to"), (.cc, draft.cc, "--cc"), (.bcc, draft.bcc, "--bcc")] {
            for text in list {
                let address = try mailAddress(text, role: option)
                named.append(address.address)
                if seen.insert(address.address.lowercased()).inserted {
                    recipients.append(.init(address: address, kind: kind))
                }
            }
        }
        guard !recipients.isEmpty else {
            throw RetractError(.noRecipients, "no recipients; name at least one with --to, --cc or --bcc")
        }
        let locale: MailLocale
        do {
            locale = try MailLocale(parsing: draft.locale)
        } catch {
            throw .invalidInput("--locale \(draft.locale.debugDescription) is not supported; use en or zh-Hans")
        }
        if let maxViews = draft.maxViews, maxViews < 1 {
            throw .invalidInput("--max-views must be 1 or more (leave it out for no limit)")
        }
        let expiresIn = try DurationText.Bounds.expiry.check(
            draft.expiresIn ?? configuration.defaultExpiry, option: "--expires")
        let delay = try DurationText.Bounds.delay.check(draft.delay ?? configuration.defaultSendDelay, option: "--delay")
        let attachments = try draft.attachments.map { url throws(RetractError) in try Self.checkedAttachment(url) }
        let findings = PreSendCheck.findings(
            sender: sender.address, subject: draft.subject, body: draft.body, attachmentCount: attachments.count,
            recipients: named,
            visibleRecipients: recipients.filter { $0.kind != .bcc }.map(\.address.address))
        if draft.strict, findings.contains(where: { $0.severity == .warning }) {
            let list = findings.filter { $0.severity == .warning }.map(\.message).joined(separator: "; ")
            throw RetractError(.blockedByFindings, "not sent (--strict): \(list)")
        }
        return SendPlan(
            sender: sender, recipients: recipients,
            visibleTo: recipients.filter { $0.kind == .to }.map(\.address.description),
            visibleCc: recipients.filter { $0.kind == .cc }.map(\.address.description),
            attachments: attachments, locale: locale, delay: delay, expiresIn: expiresIn, findings: findings)
    }

    /// Longest subject accepted, in characters: it travels in every notification's header.
    public static let maxSubjectLength = 1_000

    /// Throws when a subject is longer than `maxSubjectLength`.
    static func checkSubjectLength(_ subject: String, option: String) throws(RetractError) {
        guard subject.unicodeScalars.count <= maxSubjectLength else {
            throw .invalidInput("\(option) is longer than \(maxSubjectLength) characters; shorten it")
        }
    }

    /// Throws when a message would carry more attachments than `RETRACT_MAX_ATTACHMENTS`.
    func checkAttachmentCount(_ count: Int, option: String) throws(RetractError) {
        guard count <= configuration.maxAttachments else {
            throw RetractError(
                .attachmentUnreadable,
                "\(option) names \(count) files; at most \(configuration.maxAttachments) attachments are allowed (RETRACT_MAX_ATTACHMENTS)")
        }
    }

    /// A readable regular file, or a one-line error naming it.
    static func checkedAttachment(_ url: URL) throws(RetractError) -> SendPlan.Attachment {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw RetractError(.attachmentUnreadable, "attachment \(url.path) does not exist")
        }
        guard !isDirectory.boolValue else {
            throw RetractError(.attachmentUnreadable, "attachment \(url.path) is a directory; attach files one by one")
        }
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw RetractError(.attachmentUnreadable, "attachment \(url.path) cannot be read (check its permissions)")
        }
        let name = AttachmentName.cleaned(url.lastPathComponent)
        return .init(url: url, name: name, mediaType: MediaType.forFileName(name))
    }
}
