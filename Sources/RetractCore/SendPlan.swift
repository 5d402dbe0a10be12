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
        where value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            throw RetractError(.headerInjection, "the \(name) contains a line break; mail headers must be one line")
        }
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
        let expiresIn = draft.expiresIn ?? configuration.defaultExpiry
        let delay = draft.delay ?? configuration.defaultSendDelay
        guard delay >= 0 else { throw .invalidInput("--delay cannot be negative") }
        let attachments = try draft.attachments.map { url throws(RetractError) in try Self.checkedAttachment(url) }
        let findings = PreSendCheck.findings(
            sender: sender.address, subject: draft.subject, body: draft.body, attachmentCount: attachments.count,
            recipients: named)
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
        let name = url.lastPathComponent
        return .init(url: url, name: name, mediaType: MediaType.forFileName(name))
    }
}
