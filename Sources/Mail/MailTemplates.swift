import Foundation
import Mustache

/// Mustache templates (swift-mustache) bundled in `Sources/Mail/Templates`, one folder per
/// locale (`en/`, `zh-Hans/`), with a subject, a text and an HTML template per mail kind; an
/// operator override directory (same layout) takes precedence file by file.
///
/// Files are `<kind>.<part>.mustache` with kind `notification`, `withdrawal`, `correction`,
/// `recall-report` or `verification` and part `subject`, `text` or `html`. Any other `*.mustache` file in a
/// locale folder is registered as a partial under its name without the extension. Subject
/// and text templates never HTML-escape (the loader puts them in swift-mustache's `TEXT`
/// content type), HTML templates always do for `{{name}}`. `Templates/README.md` lists the
/// variables each kind gets.
///
/// Every mail built here has `From` = the service address labelled with the sender's name
/// (or address), one `To`, the preassigned Message-ID, `Date` = now (change `date` on the
/// result if needed) and `Content-Language`. Notices and reports also carry
/// `Auto-Submitted: auto-generated`; notices thread under the original notification.
/// Subject prefixes: withdrawal "Withdrawn: " / "已撤回：", correction "Correction: " /
/// "更正：", report "Recall report: " / "撤回报告：" — a separate word per kind, so a
/// recipient who never opened the original is not told that something was corrected.
public struct MailTemplates: Sendable {
    /// The mail kinds, each with a subject, text and HTML template.
    static let kinds = [
        "notification", "withdrawal", "correction", "recall-report", "verification", "gateway-receipt",
        "recall-candidates",
    ]
    /// The parts of one kind.
    static let parts = ["subject", "text", "html"]

    private let libraries: [MailLocale: MustacheLibrary]
    /// The recall report's text and HTML parts split for rendering rows by kind, per locale,
    /// for the parts that are the shipped files (see `RecallReportRows`).
    private let reportRows: [MailLocale: [String: RecallReportRows]]
    /// The recall report's parts, per locale, that are shipped files never naming `rows`
    /// (the subjects), so rendering them needs no row variables.
    private let reportPartsWithoutRows: [MailLocale: Set<String>]

    /// Loads and compiles every template; a missing or unparsable file is an error naming it.
    public init(overrideDirectory: URL? = nil) throws(MailError) {
        guard let bundled = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw MailError.templateNotFound.with(
                "the built-in mail templates are missing from the Mail resource bundle; reinstall Retract")
        }
        if let overrideDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: overrideDirectory.path, isDirectory: &isDirectory),
                isDirectory.boolValue
            else {
                throw MailError.templateNotFound.with(
                    "the template override directory \(MailError.quote(overrideDirectory.path, limit: 200)) "
                        + "does not exist; create it or drop the setting")
            }
        }
        var libraries: [MailLocale: MustacheLibrary] = [:]
        var reportRows: [MailLocale: [String: RecallReportRows]] = [:]
        var reportPartsWithoutRows: [MailLocale: Set<String>] = [:]
        for locale in MailLocale.allCases {
            let shipped = Self.templateFiles(in: bundled.appendingPathComponent(locale.rawValue))
            var files = shipped
            if let overrideDirectory {
                let overrides = Self.templateFiles(in: overrideDirectory.appendingPathComponent(locale.rawValue))
                files.merge(overrides) { _, override in override }
            }
            var library = MustacheLibrary()
            for kind in Self.kinds {
                for part in Self.parts where files["\(kind).\(part)"] == nil {
                    throw MailError.templateNotFound.with(
                        "no template \(locale.rawValue)/\(kind).\(part).mustache; restore it in the override "
                            + "directory or remove the override folder")
                }
            }
            for (name, url) in files.sorted(by: { $0.key < $1.key }) {
                library.register(try Self.compile(url, name: name), named: name)
            }
            libraries[locale] = library
            reportRows[locale] = Self.splitReportRows(files: files, shipped: shipped)
            reportPartsWithoutRows[locale] = Set(
                Self.parts.filter { part in
                    let name = "recall-report.\(part)"
                    guard let url = files[name], url == shipped[name],
                        let source = FileManager.default.contents(atPath: url.path).flatMap({
                            String(data: $0, encoding: .utf8)
                        })
                    else { return false }
                    return !source.contains("rows") && !source.contains("{{>")
                })
        }
        self.libraries = libraries
        self.reportRows = reportRows
        self.reportPartsWithoutRows = reportPartsWithoutRows
    }

    // MARK: Mail kinds

    /// The notification that carries a recipient's personal link.
    public func notification(_ n: NotificationDetails) throws(MailError) -> MailMessage {
        try Self.checkLink(n.link, field: "link")
        var data = Self.people(sender: n.sender, recipient: n.recipient)
        data["subject"] = n.subject
        data["link"] = n.link
        data["sentAt"] = MailDateFormat.body(n.sentAt, locale: n.locale)
        if let expiresAt = n.expiresAt { data["expiresAt"] = MailDateFormat.body(expiresAt, locale: n.locale) }
        data["attachmentCount"] = n.attachmentCount
        data["hasAttachments"] = n.attachmentCount > 0
        data["oneAttachment"] = n.attachmentCount == 1
        data["severalAttachments"] = n.attachmentCount > 1
        let parts = try self.render("notification", locale: n.locale, data: data)
        let message = MailMessage(
            from: try Self.serviceMailbox(n.serviceAddress, labelledFor: n.sender), replyTo: n.sender,
            to: [n.recipient], subject: parts.subject, messageID: n.messageID, textBody: parts.text,
            htmlBody: parts.html, extraHeaders: [("Content-Language", n.locale.rawValue)])
        try message.validate()
        return message
    }

    /// The notice to a recipient who never opened the message: it was withdrawn, disregard it.
    public func withdrawalNotice(_ n: NoticeDetails) throws(MailError) -> MailMessage {
        try self.notice("withdrawal", n)
    }

    /// The notice to a recipient who opened the message: it was withdrawn, do not rely on it,
    /// and, with a replacement link, a corrected version follows.
    public func correctionNotice(_ n: NoticeDetails) throws(MailError) -> MailMessage {
        try self.notice("correction", n)
    }

    /// The report to the sender: per recipient, whether the recall came before or after they opened it.
    public func recallReport(_ r: RecallReportDetails) throws(MailError) -> MailMessage {
        var data = Self.people(sender: r.sender, recipient: nil)
        data["originalSubject"] = r.originalSubject
        data["originalSentAt"] = MailDateFormat.body(r.originalSentAt, locale: r.locale)
        if let reason = Self.nonBlank(r.reason) { data["reason"] = reason }
        if r.correctionWithheld { data["correctionWithheld"] = true }
        for row in r.rows {
            guard RecallReportRow.outcomes.contains(row.outcome) else {
                throw MailError.invalidTemplateInput.with(
                    "unknown recall outcome \(MailError.quote(row.outcome)) for \(MailError.quote(row.recipient)); "
                        + "use one of \(RecallReportRow.outcomes.sorted().joined(separator: ", "))")
            }
            guard RecallReportRow.notices.contains(row.notice) else {
                throw MailError.invalidTemplateInput.with(
                    "unknown notice \(MailError.quote(row.notice)) for \(MailError.quote(row.recipient)); "
                        + "use one of \(RecallReportRow.notices.sorted().joined(separator: ", "))")
            }
        }
        let opened = r.rows.filter { $0.outcome == "revoked_after_open" }.count
        data["recipientCount"] = r.rows.count
        data["openedCount"] = opened
        data["stoppedInTimeCount"] = r.rows.count - opened
        data["allStoppedInTime"] = opened == 0
        let parts = try self.renderReport(r.rows, locale: r.locale, data: data)
        return try serviceMail(
            from: r.serviceAddress, to: r.sender, parts: parts, messageID: r.messageID, locale: r.locale,
            inReplyTo: r.inReplyTo)
    }

    /// The mail that carries a recipient's 6-digit verification code for a message sent with `verify`.
    ///
    /// From the service itself (labelled "Retract", not the sender: the code comes from
    /// Retract), to the grant's recipient only; the code is in the body, never in the subject.
    public func verification(_ v: VerificationDetails) throws(MailError) -> MailMessage {
        guard v.code.utf8.count == 6, v.code.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw MailError.invalidTemplateInput.with("a verification code must be exactly 6 digits")
        }
        var data = Self.people(sender: v.sender, recipient: v.recipient)
        data["code"] = v.code
        data["expiresAt"] = MailDateFormat.body(v.expiresAt, locale: v.locale)
        data["validMinutes"] = v.validMinutes
        return try serviceMail(
            from: v.serviceAddress, to: v.recipient, parts: try self.render("verification", locale: v.locale, data: data),
            messageID: v.messageID, locale: v.locale)
    }

    private func notice(_ kind: String, _ n: NoticeDetails) throws(MailError) -> MailMessage {
        var data = Self.people(sender: n.sender, recipient: n.recipient)
        data["originalSubject"] = n.originalSubject
        data["originalSentAt"] = MailDateFormat.body(n.originalSentAt, locale: n.locale)
        if let openedAt = n.openedAt { data["openedAt"] = MailDateFormat.body(openedAt, locale: n.locale) }
        if let reason = Self.nonBlank(n.reason) { data["reason"] = reason }
        if kind == "correction", let link = Self.nonBlank(n.replacementLink) {
            try Self.checkLink(link, field: "replacementLink")
            data["replacementLink"] = link
        }
        let parts = try self.render(kind, locale: n.locale, data: data)
        let message = MailMessage(
            from: try Self.serviceMailbox(n.serviceAddress, labelledFor: n.sender), replyTo: n.sender,
            to: [n.recipient], subject: parts.subject, messageID: n.messageID, inReplyTo: n.originalMessageID,
            references: [n.originalMessageID], textBody: parts.text, htmlBody: parts.html,
            extraHeaders: [("Auto-Submitted", "auto-generated"), ("Content-Language", n.locale.rawValue)])
        try message.validate()
        return message
    }

    /// A mail from the service itself (labelled "Retract") to one person, built from rendered
    /// parts, marked automatic (`Auto-Submitted`) and with its language, and validated.
    func serviceMail(
        from service: MailAddress, to recipient: MailAddress, parts: (subject: String, text: String, html: String),
        messageID: String, locale: MailLocale, autoSubmitted: String = "auto-generated", replyTo: MailAddress? = nil,
        inReplyTo: String? = nil
    ) throws(MailError) -> MailMessage {
        let message = MailMessage(
            from: try MailAddress(address: service.address, displayName: "Retract"), replyTo: replyTo, to: [recipient],
            subject: parts.subject, messageID: messageID, inReplyTo: inReplyTo,
            references: inReplyTo.map { [$0] } ?? [], textBody: parts.text, htmlBody: parts.html,
            extraHeaders: [("Auto-Submitted", autoSubmitted), ("Content-Language", locale.rawValue)])
        try message.validate()
        return message
    }

    // MARK: Rendering

    func render(
        _ kind: String, locale: MailLocale, data: [String: Any]
    ) throws(MailError) -> (subject: String, text: String, html: String) {
        guard let library = self.libraries[locale] else {
            throw MailError.templateNotFound.with("no templates loaded for \(locale.rawValue)")
        }
        var rendered: [String] = []
        for part in Self.parts {
            guard let output = library.render(data, withTemplate: "\(kind).\(part)") else {
                throw MailError.templateNotFound.with("no template \(locale.rawValue)/\(kind).\(part).mustache")
            }
            rendered.append(output)
        }
        // Template files end with a newline; a subject is one line.
        let subject = rendered[0].trimmingCharacters(in: .whitespacesAndNewlines)
        return (subject, rendered[1], rendered[2])
    }

    /// The recall report's parts: rows by kind for a shipped part, row by row for an override.
    private func renderReport(
        _ rows: [RecallReportRow], locale: MailLocale, data: [String: Any]
    ) throws(MailError) -> (subject: String, text: String, html: String) {
        guard let library = self.libraries[locale] else {
            throw MailError.templateNotFound.with("no templates loaded for \(locale.rawValue)")
        }
        let split = self.reportRows[locale] ?? [:]
        let withoutRows = self.reportPartsWithoutRows[locale] ?? []
        var rowData: [[String: Any]]? = nil
        var rendered: [String] = []
        for part in Self.parts {
            if let rowsPart = split[part] {
                var data = data
                data[RecallReportRows.renderedRowsName] = rowsPart.render(
                    rows, openedAt: { MailDateFormat.body($0, locale: locale) }, data: data, library: library)
                rendered.append(rowsPart.outer.render(data, library: library))
                continue
            }
            if withoutRows.contains(part) {
                guard let output = library.render(data, withTemplate: "recall-report.\(part)") else {
                    throw MailError.templateNotFound.with(
                        "no template \(locale.rawValue)/recall-report.\(part).mustache")
                }
                rendered.append(output)
                continue
            }
            let items =
                rowData
                ?? rows.map {
                    RecallReportRows.rowData($0, openedAt: $0.openedAt.map { MailDateFormat.body($0, locale: locale) })
                }
            rowData = items
            var data = data
            data["rows"] = items
            guard let output = library.render(data, withTemplate: "recall-report.\(part)") else {
                throw MailError.templateNotFound.with("no template \(locale.rawValue)/recall-report.\(part).mustache")
            }
            rendered.append(output)
        }
        let subject = rendered[0].trimmingCharacters(in: .whitespacesAndNewlines)
        return (subject, rendered[1], rendered[2])
    }

    /// The recall report's text and HTML parts that are the shipped files, split by
    /// `RecallReportRows`; a part that an override replaces, or that does not split, is left out.
    private static func splitReportRows(files: [String: URL], shipped: [String: URL]) -> [String: RecallReportRows] {
        var split: [String: RecallReportRows] = [:]
        for part in ["text", "html"] {
            let name = "recall-report.\(part)"
            guard let url = files[name], url == shipped[name],
                let data = FileManager.default.contents(atPath: url.path),
                let source = String(data: data, encoding: .utf8),
                let rows = RecallReportRows(
                    source: source, pragma: Self.pragma(for: name) ?? "", escapesHTML: part == "html")
            else { continue }
            split[part] = rows
        }
        return split
    }

    /// Variables every kind gets: the sender's name and address, and the recipient's.
    static func people(sender: MailAddress, recipient: MailAddress?) -> [String: Any] {
        var data: [String: Any] = [
            "senderName": sender.displayName ?? sender.address,
            "senderAddress": sender.address,
            "senderHasName": sender.displayName != nil,
        ]
        if let recipient {
            data["recipientAddress"] = recipient.address
            if let name = recipient.displayName { data["recipientName"] = name }
        }
        return data
    }

    /// The service's address labelled with the sender's name, or their address when they have none.
    private static func serviceMailbox(
        _ service: MailAddress, labelledFor sender: MailAddress
    ) throws(MailError) -> MailAddress {
        try MailAddress(address: service.address, displayName: sender.displayName ?? sender.address)
    }

    private static func nonBlank(_ text: String?) -> String? {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return text
    }

    /// A link put in a mail must be a single-line http(s) URL, so it cannot smuggle in a script.
    private static func checkLink(_ link: String, field: String) throws(MailError) {
        let lowered = link.lowercased()
        let valid =
            (lowered.hasPrefix("https://") || lowered.hasPrefix("http://"))
            && link.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && !$0.properties.isWhitespace }
        guard valid else {
            throw MailError.invalidTemplateInput.with(
                "the \(field) \(MailError.quote(link)) is not an http(s) URL without spaces; pass the full personal link"
            )
        }
    }

    // MARK: Loading

    /// The `*.mustache` files directly in a folder, by name without the extension.
    private static func templateFiles(in directory: URL) -> [String: URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var files: [String: URL] = [:]
        for name in names where name.hasSuffix(".mustache") && !name.hasPrefix(".") {
            files[String(name.dropLast(".mustache".count))] = directory.appendingPathComponent(name)
        }
        return files
    }

    /// Reads and compiles one template, forcing its content type by its part.
    private static func compile(_ url: URL, name: String) throws(MailError) -> MustacheTemplate {
        let shown = MailError.quote(url.path, limit: 200)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw MailError.templateNotFound.with("cannot read template \(shown); check that it is a readable file")
        }
        guard let source = String(data: data, encoding: .utf8) else {
            throw MailError.invalidTemplate.with("template \(shown) is not UTF-8 text; save it as UTF-8")
        }
        let pragma = Self.pragma(for: name)
        do {
            return try MustacheTemplate(string: (pragma ?? "") + source)
        } catch let error as MustacheTemplate.ParserError {
            let line = error.context.lineNumber - (pragma == nil ? 0 : 1)
            throw MailError.invalidTemplate.with(
                "template \(shown) does not parse at line \(line), column \(error.context.columnNumber): "
                    + "\(Self.explain(error.error)) (\(MailError.quote(error.context.line))); fix it or remove the override"
            )
        } catch {
            throw MailError.invalidTemplate.with(
                "template \(shown) does not parse (\(error)); fix it or remove the override")
        }
    }

    /// The content-type pragma a template gets by its part: it sits alone on an extra first
    /// line, which swift-mustache drops entirely. Partials get none.
    private static func pragma(for name: String) -> String? {
        if name.hasSuffix(".text") || name.hasSuffix(".subject") {
            "{{% CONTENT_TYPE: TEXT }}\n"
        } else if name.hasSuffix(".html") {
            "{{% CONTENT_TYPE: HTML }}\n"
        } else {
            nil
        }
    }

    /// Words for swift-mustache's parser errors.
    private static func explain(_ error: any Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .expectedSectionEnd: "a section opened with {{#name}} or {{^name}} is never closed"
        case .sectionCloseNameIncorrect: "a section is closed with a different name than it was opened with"
        case .unfinishedName: "a tag is not closed with }}"
        case .invalidSetDelimiter: "a {{=<% %>=}} delimiter change is malformed"
        case .invalidConfigVariableSyntax, .unrecognisedConfigVariable: "a {{% pragma }} is malformed or unknown"
        default: "\(error)"
        }
    }
}
