import Foundation
import Testing

@testable import Mail

@Suite("Mail templates")
struct MailTemplatesTests {
    private func notification(
        _ templates: MailTemplates, locale: MailLocale = .en, subject: String = "Q3 figures",
        sender: MailAddress? = nil
    ) throws -> NotificationDetails {
        NotificationDetails(
            serviceAddress: try Fixtures.service, sender: try sender ?? Fixtures.alice, recipient: try Fixtures.bob,
            subject: subject, link: Fixtures.link, sentAt: Fixtures.sentAt,
            expiresAt: Fixtures.sentAt.addingTimeInterval(7 * 86_400), attachmentCount: 2, locale: locale,
            messageID: "<notification-1@localhost>")
    }

    private func notice(
        locale: MailLocale = .en, openedAt: Date? = nil, reason: String? = "Wrong figures in table 2",
        replacementLink: String? = nil
    ) throws -> NoticeDetails {
        NoticeDetails(
            serviceAddress: try Fixtures.service, sender: try Fixtures.alice, recipient: try Fixtures.bob,
            originalSubject: "Q3 figures", originalSentAt: Fixtures.sentAt, openedAt: openedAt, reason: reason,
            replacementLink: replacementLink, originalMessageID: "<notification-1@localhost>", locale: locale)
    }

    private func parsed(_ message: MailMessage) throws -> ParsedMail {
        let bytes = try message.rendered()
        for line in Fixtures.lines(bytes) { #expect(line.utf8.count <= 78, "line too long: \(line)") }
        return try ParsedMail(parsing: bytes)
    }

    @Test("the notification comes from the service with the sender's name, replies go to the sender")
    func notificationHeaders() throws {
        let templates = try MailTemplates()
        let mail = try self.parsed(try templates.notification(try self.notification(templates)))
        #expect(mail.header("From") == "Alice Example <retract@localhost>")
        #expect(mail.header("Reply-To") == "Alice Example <alice@example.com>")
        #expect(mail.header("To") == "Bob Jones <bob@example.org>")
        #expect(mail.header("Subject") == "Q3 figures")
        #expect(mail.header("Message-ID") == "<notification-1@localhost>")
        #expect(mail.header("Content-Language") == "en")
        #expect(mail.header("Auto-Submitted") == nil)
        #expect(mail.header("Date") != nil)
    }

    @Test("a sender without a name is labelled with their address")
    func senderWithoutName() throws {
        let templates = try MailTemplates()
        let sender = try MailAddress(parsing: "carol@example.com")
        let mail = try self.parsed(try templates.notification(try self.notification(templates, sender: sender)))
        #expect(mail.header("From") == "\"carol@example.com\" <retract@localhost>")
        #expect(try MailAddress(parsing: mail.header("From") ?? "").displayName == "carol@example.com")
    }

    @Test("the text part has the personal link alone on its own line", arguments: MailLocale.allCases)
    func linkAlone(locale: MailLocale) throws {
        let templates = try MailTemplates()
        let mail = try self.parsed(try templates.notification(try self.notification(templates, locale: locale)))
        let text = try #require(mail.textBody)
        #expect(text.components(separatedBy: "\n").contains(Fixtures.link))
        #expect(mail.links == [Fixtures.link])
        let html = try #require(mail.htmlBody)
        #expect(html.contains("<a href=\"\(Fixtures.link)\""))
    }

    @Test("HTML escapes markup in the subject and names; the text part keeps it verbatim")
    func htmlEscaping() throws {
        let templates = try MailTemplates()
        let sender = try MailAddress(address: "mallory@example.com", displayName: "<b>Mallory</b> & \"Co\"")
        let details = try self.notification(templates, subject: "<script>alert(1)</script>", sender: sender)
        let mail = try self.parsed(try templates.notification(details))
        let html = try #require(mail.htmlBody)
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<b>Mallory</b>"))
        #expect(html.contains("&lt;b&gt;Mallory&lt;/b&gt; &amp; &quot;Co&quot;"))
        let text = try #require(mail.textBody)
        #expect(text.contains("<script>alert(1)</script>"))
        #expect(text.contains("<b>Mallory</b> & \"Co\""))
        #expect(!text.contains("&lt;"))
        #expect(mail.header("Subject") == "<script>alert(1)</script>")
    }

    @Test("a link that is not http(s) is refused")
    func badLink() throws {
        let templates = try MailTemplates()
        var details = try self.notification(templates)
        details.link = "javascript:alert(1)"
        #expect(throws: MailError.invalidTemplateInput) { try templates.notification(details) }
        details.link = "https://example.com/m/a b"
        #expect(throws: MailError.invalidTemplateInput) { try templates.notification(details) }
    }

    @Test("a subject with a line break is refused when the mail is built")
    func subjectInjection() throws {
        let templates = try MailTemplates()
        let details = try self.notification(templates, subject: "Hi\r\nBcc: victim@example.com")
        #expect(throws: MailError.headerInjection) { try templates.notification(details) }
    }

    @Test("notices thread under the original notification and carry the localized prefix")
    func noticeThreading() throws {
        let templates = try MailTemplates()
        let cases: [(MailMessage, String)] = [
            (try templates.withdrawalNotice(try self.notice()), "Withdrawn: Q3 figures"),
            (try templates.correctionNotice(try self.notice(openedAt: Fixtures.openedAt)), "Correction: Q3 figures"),
            (try templates.withdrawalNotice(try self.notice(locale: .zhHans)), "已撤回：Q3 figures"),
            (try templates.correctionNotice(try self.notice(locale: .zhHans)), "更正：Q3 figures"),
        ]
        var ids: Set<String> = []
        for (message, subject) in cases {
            let mail = try self.parsed(message)
            #expect(mail.header("Subject") == subject)
            #expect(mail.header("In-Reply-To") == "<notification-1@localhost>")
            #expect(mail.header("References") == "<notification-1@localhost>")
            #expect(mail.header("Auto-Submitted") == "auto-generated")
            #expect(mail.header("From") == "Alice Example <retract@localhost>")
            #expect(mail.header("To") == "Bob Jones <bob@example.org>")
            ids.insert(try #require(mail.header("Message-ID")))
        }
        #expect(ids.count == cases.count)
        #expect(!ids.contains("<notification-1@localhost>"))
    }

    @Test("the withdrawal notice says the mail of that date was withdrawn, can be disregarded, and why")
    func withdrawalWording() throws {
        let templates = try MailTemplates()
        let text = try #require(try self.parsed(try templates.withdrawalNotice(try self.notice())).textBody)
        #expect(text.contains("\"Q3 figures\""))
        #expect(text.contains("3 March 2025, 14:05 UTC"))
        #expect(text.contains("withdrawn by the sender"))
        #expect(text.contains("disregard"))
        #expect(text.contains("Wrong figures in table 2"))
        #expect(text.contains("Sorry"))
        let withoutReason = try self.parsed(try templates.withdrawalNotice(try self.notice(reason: nil))).textBody
        #expect(withoutReason?.contains("reason") == false)
    }

    @Test("the correction notice names the open time, says not to rely on it, and carries the replacement link")
    func correctionWording() throws {
        let templates = try MailTemplates()
        let details = try self.notice(openedAt: Fixtures.openedAt, replacementLink: Fixtures.link + "2")
        let mail = try self.parsed(try templates.correctionNotice(details))
        let text = try #require(mail.textBody)
        #expect(text.contains("You opened it on 3 March 2025, 15:20 UTC"))
        #expect(text.contains("do not rely on"))
        #expect(text.contains("corrected version follows"))
        #expect(mail.links == [Fixtures.link + "2"])
        #expect(try #require(mail.htmlBody).contains("href=\"\(Fixtures.link)2\""))

        let plain = try self.parsed(try templates.correctionNotice(try self.notice(openedAt: Fixtures.openedAt)))
        #expect(plain.links.isEmpty)
        #expect(plain.textBody?.contains("corrected version") == false)
        let withdrawal = try self.notice(replacementLink: Fixtures.link)
        #expect(try self.parsed(try templates.withdrawalNotice(withdrawal)).links.isEmpty)
    }

    @Test("zh-Hans details use the Simplified Chinese templates and date format")
    func chinese() throws {
        let templates = try MailTemplates()
        let mail = try self.parsed(try templates.notification(try self.notification(templates, locale: .zhHans)))
        let text = try #require(mail.textBody)
        #expect(text.contains("您好"))
        #expect(text.contains("2025年3月3日 14:05（UTC）"))
        #expect(text.contains("附件：2 个"))
        #expect(!text.contains("Hello"))
        #expect(mail.header("Content-Language") == "zh-Hans")
        #expect(try #require(mail.htmlBody).contains("lang=\"zh-Hans\""))
        let notice = try self.parsed(
            try templates.correctionNotice(try self.notice(locale: .zhHans, openedAt: Fixtures.openedAt)))
        #expect(notice.textBody?.contains("请不要再以其中的内容为准") == true)
        #expect(notice.textBody?.contains("撤回原因：Wrong figures in table 2") == true)
    }

    @Test("the recall report tells the sender, per recipient, whether the recall came in time")
    func recallReport() throws {
        let templates = try MailTemplates()
        let details = RecallReportDetails(
            serviceAddress: try Fixtures.service, sender: try Fixtures.alice, originalSubject: "Q3 figures",
            originalSentAt: Fixtures.sentAt, reason: "Wrong figures",
            rows: [
                RecallReportRow(
                    recipient: "bob@example.org", outcome: "revoked_after_open", openedAt: Fixtures.openedAt,
                    notice: "correction"),
                RecallReportRow(recipient: "carol@example.com", outcome: "revoked_before_open", notice: "withdrawal"),
                RecallReportRow(recipient: "dan@example.com", outcome: "cancelled_before_delivery", notice: "none"),
            ])
        let mail = try self.parsed(try templates.recallReport(details))
        #expect(mail.header("Subject") == "Recall report: Q3 figures")
        #expect(mail.header("To") == "Alice Example <alice@example.com>")
        #expect(mail.header("From") == "Retract <retract@localhost>")
        #expect(mail.header("Auto-Submitted") == "auto-generated")
        let text = try #require(mail.textBody)
        #expect(
            text.contains(
                "- bob@example.org: withdrawn, but they had already opened it on 3 March 2025, 15:20 UTC. A correction notice was sent."
            ))
        #expect(text.contains("- carol@example.com: withdrawn before they opened it. A withdrawal notice was sent."))
        #expect(text.contains("- dan@example.com: cancelled before delivery; nothing reached them.\n"))
        #expect(text.contains("Withdrawn before being opened: 2 of 3. Already opened: 1."))

        var bad = details
        bad.rows[0].outcome = "exploded"
        #expect(throws: MailError.invalidTemplateInput) { try templates.recallReport(bad) }
        let zh = try self.parsed(
            try templates.recallReport(
                RecallReportDetails(
                    serviceAddress: details.serviceAddress, sender: details.sender, originalSubject: "Q3 figures",
                    originalSentAt: Fixtures.sentAt, rows: details.rows, locale: .zhHans)))
        #expect(zh.header("Subject") == "撤回报告：Q3 figures")
        #expect(zh.textBody?.contains("已发送更正通知") == true)
    }

    @Test("an override directory replaces one template and leaves the others built in")
    func overrideOneTemplate() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let en = directory.appendingPathComponent("en")
        try FileManager.default.createDirectory(at: en, withIntermediateDirectories: true)
        try "Custom notice for {{recipientName}} about {{originalSubject}} & more.\n"
            .write(to: en.appendingPathComponent("withdrawal.text.mustache"), atomically: true, encoding: .utf8)

        let templates = try MailTemplates(overrideDirectory: directory)
        let withdrawal = try self.parsed(try templates.withdrawalNotice(try self.notice()))
        #expect(withdrawal.textBody == "Custom notice for Bob Jones about Q3 figures & more.\n")
        #expect(withdrawal.header("Subject") == "Withdrawn: Q3 figures")
        #expect(withdrawal.htmlBody?.contains("has been withdrawn by the sender") == true)
        let zh = try self.parsed(try templates.withdrawalNotice(try self.notice(locale: .zhHans)))
        #expect(zh.textBody?.contains("已被发件人撤回") == true)
    }

    @Test("a broken override template is an error naming the file and the problem")
    func brokenOverride() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let zh = directory.appendingPathComponent("zh-Hans")
        try FileManager.default.createDirectory(at: zh, withIntermediateDirectories: true)
        try "第一行\n{{#rows}}没有结束\n"
            .write(to: zh.appendingPathComponent("recall-report.text.mustache"), atomically: true, encoding: .utf8)
        #expect(throws: MailError.invalidTemplate) { try MailTemplates(overrideDirectory: directory) }
        do {
            _ = try MailTemplates(overrideDirectory: directory)
        } catch {
            #expect(error.description.contains("zh-Hans/recall-report.text.mustache"))
            #expect(error.description.contains("never closed"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("a missing override directory is an error")
    func missingOverride() {
        let missing = URL(fileURLWithPath: "/nonexistent/retract-templates")
        #expect(throws: MailError.templateNotFound) { try MailTemplates(overrideDirectory: missing) }
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mail-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
