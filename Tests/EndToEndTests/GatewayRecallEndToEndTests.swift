import Foundation
import Mail
import RetractTestSupport
import Seal
import Testing

/// Outlook's "Recall This Message" through the real deployment: smtplib → Postfix →
/// `retract serve --smtp-listen` → Postfix → aiosmtpd.
@Suite("End to end: Outlook's recall through a real Postfix", .serialized)
struct GatewayRecallEndToEndTests {
    let root: URL
    let postfixTests: GatewayPostfixEndToEndTests

    init() throws {
        postfixTests = try GatewayPostfixEndToEndTests()
        root = postfixTests.root
    }

    /// Exchange's recall request for an external recipient, in the web or classic form.
    static func recall(subject: String, diagnostic: String) -> String {
        [
            "From: Alice Example <alice@corp.test>",
            "To: Bob <bob@partner.test>",
            "Cc: carol@corp.test",
            "Subject: Recall: \(subject)",
            "Thread-Topic: \(subject)",
            "Date: Thu, 03 Dec 2026 10:05:00 +0000",
            "Message-ID: <recall-\(UUID().uuidString)@corp.test>",
            "x-ms-exchange-recallreportgenerated: true",
            "X-MS-TrafficTypeDiagnostic: \(diagnostic)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=\"us-ascii\"",
            "",
            "Alice Example would like to recall the message, \"\(subject)\".",
            "",
        ].joined(separator: "\r\n")
    }

    /// Alice's mail client submits the original To Bob, Cc Carol; the three mails that come
    /// out (Bob's notification, Carol's copy, Alice's receipt).
    func sealOriginal(_ deployment: GatewayDeployment) async throws -> [SMTPSink.Received] {
        try submitWithSMTPLib(
            port: deployment.submissionPort, from: "alice@corp.test", to: ["bob@partner.test", "carol@corp.test"],
            message: GatewayPostfixEndToEndTests.original)
        return try await postfixTests.waitFor(deployment.sink, count: 3, postfix: deployment.postfix)
    }

    @Test(
        "a recall in each Exchange form revokes the outsider's link: he gets Retract's withdrawal, the colleague the recall unchanged, the sender the report",
        arguments: ["AM9PR02MB7202:EE_MessageRecallEmail", "DB8PR04MB6985:EE_LegacyOutlookRecall"])
    func recallThroughPostfix(diagnostic: String) async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        // Given Retract behind a private Postfix and a sealed message to Bob, Cc Carol
        let deployment = try await GatewayDeployment.start(in: root, tests: postfixTests)
        defer { deployment.stop() }
        let (sink, postfix, httpPort) = (deployment.sink, deployment.postfix, deployment.httpPort)
        let first = try await sealOriginal(deployment)
        let notification = try #require(first.first { $0.recipients == ["bob@partner.test"] })
        let link = try Link.parse(
            try #require(try ParsedMail(parsing: notification.data).links.first { $0.contains("/m/") }))

        // When Alice recalls it from Outlook
        let recall = Self.recall(subject: "Q3 figures", diagnostic: diagnostic)
        try submitWithSMTPLib(
            port: postfix.port, from: "alice@corp.test", to: ["bob@partner.test", "carol@corp.test"], message: recall)

        // Then Bob gets Retract's withdrawal notice and never the recall mail, Carol the
        // recall mail as Alice's Outlook wrote it, and Alice the recall report
        let all = try await postfixTests.waitFor(sink, count: 6, postfix: postfix)
        let later = Array(all.dropFirst(first.count))
        let toBob = later.filter { $0.recipients == ["bob@partner.test"] }
        #expect(toBob.count == 1)
        let notice = try ParsedMail(parsing: try #require(toBob.first).data)
        #expect(notice.header("Subject")?.contains("Q3 figures") == true)
        #expect(!String(decoding: try #require(toBob.first).data, as: UTF8.self).contains("would like to recall"))
        let toCarol = try #require(later.first { $0.recipients == ["carol@corp.test"] })
        #expect(GatewayPostfixEndToEndTests.withoutTrace(toCarol.data) == recall)
        let report = try #require(later.first { $0.recipients == ["alice@corp.test"] })
        #expect(try ParsedMail(parsing: report.data).textBody?.contains("bob@partner.test") == true)

        // And Bob's link answers 410
        let (status, _, _) = try await HTTP.get("http://127.0.0.1:\(httpPort)/m/\(link.token.base64url)")
        #expect(status == 410)
        // And every mail Retract wrote parses cleanly with Python's email package
        for mail in [try #require(toBob.first), report] {
            #expect(try pythonEmailDefects(mail.data, in: root) == "[]")
        }
    }

    @Test("a reply to the receipt through Postfix revokes with the corrected text: the outsider's notice links the correction, the sender gets the report, and both parse cleanly")
    func replyThroughPostfix() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let deployment = try await GatewayDeployment.start(in: root, tests: postfixTests)
        defer { deployment.stop() }
        let (sink, postfix, httpPort) = (deployment.sink, deployment.postfix, deployment.httpPort)
        let first = try await sealOriginal(deployment)
        let receipt = try ParsedMail(parsing: try #require(first.first { $0.recipients == ["alice@corp.test"] }).data)
        let recallAddress = try #require(try receipt.addresses("Reply-To").first).address
        #expect(try pythonEmailDefects(try #require(first.first { $0.recipients == ["alice@corp.test"] }).data, in: root) == "[]")

        // When Alice answers the receipt from her mail client, through Postfix
        let reply = [
            "From: Alice Example <alice@corp.test>", "To: Retract <\(recallAddress)>",
            "Subject: Re: \(receipt.header("Subject") ?? "")", "Date: Thu, 03 Dec 2026 10:20:00 +0000",
            "Message-ID: <reply-1@corp.test>", "In-Reply-To: \(receipt.header("Message-ID") ?? "")",
            "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "",
            "REVOKE", "The figures were preliminary.", "---", "Final figures: revenue 12.4 M.", "",
            "On Thu, 3 Dec 2026, Retract wrote:", "> Hello Alice,", "",
        ].joined(separator: "\r\n")
        try submitWithSMTPLib(port: postfix.port, from: "alice@corp.test", to: [recallAddress], message: reply)

        // Then Bob gets a notice whose new link opens the corrected text, and Alice the report
        let all = try await postfixTests.waitFor(sink, count: 5, postfix: postfix)
        let later = Array(all.dropFirst(first.count))
        #expect(!later.contains { $0.recipients == [recallAddress] })
        let notice = try #require(later.first { $0.recipients == ["bob@partner.test"] })
        let parsed = try ParsedMail(parsing: notice.data)
        #expect(parsed.textBody?.contains("The figures were preliminary.") == true)
        let newLink = try Link.parse(try #require(parsed.links.first { $0.contains("/m/") }))
        let (opened, body, _) = try await HTTP.postJSON(
            "http://127.0.0.1:\(httpPort)/m/\(newLink.token.base64url)/open", ["key": newLink.linkKey.base64url])
        #expect(opened == 200)
        let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        #expect((object?["body_text"] as? String)?.contains("Final figures: revenue 12.4 M.") == true)
        let report = try #require(later.first { $0.recipients == ["alice@corp.test"] })
        for mail in [notice, report] {
            #expect(try pythonEmailDefects(mail.data, in: root) == "[]")
        }
    }
}
