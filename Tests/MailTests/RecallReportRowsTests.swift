import Foundation
import Testing

@testable import Mail

/// The recall report renders the shipped templates' rows once per kind of row
/// (`RecallReportRows`); an override renders them row by row through Mustache. Copying the
/// shipped files into an override directory therefore gives the plain Mustache rendering of
/// the very same templates, which the fast rendering must match byte for byte.
@Suite("Recall report rows")
struct RecallReportRowsTests {
    /// The shipped templates in the source tree.
    private static let shippedTemplates = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Mail/Templates")

    /// An override directory holding copies of the shipped recall-report files, for both locales.
    private static func copiedReportTemplates() throws -> URL {
        let directory = try MailTemplatesTests.temporaryDirectory()
        for locale in MailLocale.allCases {
            let target = directory.appendingPathComponent(locale.rawValue)
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            for part in ["subject", "text", "html"] {
                let name = "recall-report.\(part).mustache"
                try FileManager.default.copyItem(
                    at: Self.shippedTemplates.appendingPathComponent(locale.rawValue).appendingPathComponent(name),
                    to: target.appendingPathComponent(name))
            }
        }
        return directory
    }

    /// Rows of every kind, with recipients and a reason full of characters HTML escapes
    /// (including a `<` that a combining mark turns into another character), and openings at
    /// repeated and distinct times.
    private static func details(locale: MailLocale, reason: String?) throws -> RecallReportDetails {
        let recipients = [
            "bob@example.org", "\"O'Brien & <Co>\"@example.com", "a<\u{301}b@example.net", "dan@example.com",
            "李雷@例子.中国", "eve+tag@example.com",
        ]
        var rows: [RecallReportRow] = []
        for (index, recipient) in recipients.enumerated() {
            rows.append(RecallReportRow(recipient: recipient, outcome: "revoked_before_open", notice: "withdrawal"))
            rows.append(RecallReportRow(recipient: recipient, outcome: "revoked_before_open", notice: "none"))
            rows.append(RecallReportRow(recipient: recipient, outcome: "cancelled_before_delivery", notice: "none"))
            rows.append(
                RecallReportRow(
                    recipient: recipient, outcome: "revoked_after_open",
                    openedAt: Fixtures.openedAt.addingTimeInterval(Double(index % 2) * 3_600), notice: "correction"))
            rows.append(
                RecallReportRow(recipient: recipient, outcome: "revoked_after_open", openedAt: nil, notice: "none"))
        }
        return RecallReportDetails(
            serviceAddress: try Fixtures.service, sender: try Fixtures.alice,
            originalSubject: "Q3 <figures> & \"notes\"",
            originalSentAt: Fixtures.sentAt, reason: reason, rows: rows, locale: locale,
            messageID: "<report-1@localhost>")
    }

    @Test(
        "rows rendered once per kind read exactly as Mustache renders them row by row, in English and Chinese",
        arguments: MailLocale.allCases)
    func identicalToMustache(locale: MailLocale) throws {
        let overrides = try Self.copiedReportTemplates()
        defer { try? FileManager.default.removeItem(at: overrides) }
        let fast = try MailTemplates()
        let plain = try MailTemplates(overrideDirectory: overrides)

        for reason in ["Wrong <b>figures</b> & 'typos'", nil] {
            let details = try Self.details(locale: locale, reason: reason)
            let byKind = try fast.recallReport(details)
            let byRow = try plain.recallReport(details)
            let sameSubject = byKind.subject == byRow.subject
            let sameText = byKind.textBody == byRow.textBody
            let sameHTML = byKind.htmlBody == byRow.htmlBody
            #expect(sameSubject)
            #expect(sameText)
            #expect(sameHTML)
        }
    }

    @Test("the escaped recipient and the opening time appear in each row of the shipped HTML report")
    func escapedRows() throws {
        let mail = try MailTemplates().recallReport(try Self.details(locale: .en, reason: nil))
        let html = try #require(mail.htmlBody)
        #expect(html.contains("&quot;O&#39;Brien &amp; &lt;Co&gt;&quot;@example.com</td>"))
        #expect(html.contains("<strong>Already opened</strong> on 3 March 2025, 15:20 UTC, then withdrawn"))
        #expect(html.contains("<strong>Already opened</strong> on 3 March 2025, 16:20 UTC, then withdrawn"))
        let text = try #require(mail.textBody)
        #expect(
            text.contains(
                "- \"O'Brien & <Co>\"@example.com: withdrawn before they opened it. A withdrawal notice was sent.\n"))
    }

    @Test("an override of the report's rows is rendered row by row, with the list's own variables")
    func overrideRowsStillRender() throws {
        let directory = try MailTemplatesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let en = directory.appendingPathComponent("en")
        try FileManager.default.createDirectory(at: en, withIntermediateDirectories: true)
        try
            "{{#rows}}{{senderAddress}} -> {{recipient}} ({{outcome}}){{#openedAt}} at {{openedAt}}{{/openedAt}}\n{{/rows}}"
            .write(to: en.appendingPathComponent("recall-report.text.mustache"), atomically: true, encoding: .utf8)
        let details = RecallReportDetails(
            serviceAddress: try Fixtures.service, sender: try Fixtures.alice, originalSubject: "Q3",
            originalSentAt: Fixtures.sentAt,
            rows: [
                RecallReportRow(
                    recipient: "bob@example.org", outcome: "revoked_after_open", openedAt: Fixtures.openedAt,
                    notice: "correction"),
                RecallReportRow(recipient: "carol@example.com", outcome: "revoked_before_open", notice: "withdrawal"),
            ])
        let mail = try MailTemplates(overrideDirectory: directory).recallReport(details)
        #expect(
            mail.textBody
                == "alice@example.com -> bob@example.org (revoked_after_open) at 3 March 2025, 15:20 UTC\n"
                + "alice@example.com -> carol@example.com (revoked_before_open)\n")
        #expect(mail.htmlBody?.contains("carol@example.com</td>") == true)
    }
}
