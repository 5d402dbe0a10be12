import Foundation
import Mail
import RetractTestSupport
import Seal
import Testing

/// The deployment of docs/gateway.md for real: smtplib (the mail client) → Postfix (the
/// organisation's MTA, after-queue content filter) → `retract serve --smtp-listen` → Postfix's
/// return smtpd → aiosmtpd (every other domain, and the colleagues' mailboxes).
@Suite("End to end: the SMTP gateway behind a real Postfix", .serialized)
struct GatewayPostfixEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        cli = RetractBinary(workingDirectory: root)
    }

    /// A MIME message as a mail client writes it: text, HTML and a PDF attachment.
    static let original: String = [
        "From: Alice Example <alice@corp.test>",
        "To: Bob <bob@partner.test>",
        "Cc: carol@corp.test",
        "Subject: Q3 figures",
        "Date: Thu, 03 Dec 2026 10:00:00 +0000",
        "Message-ID: <q3-figures@corp.test>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"b1\"",
        "",
        "--b1",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Numbers attached.",
        "--b1",
        "Content-Type: application/pdf; name=\"report.pdf\"",
        "Content-Disposition: attachment; filename=\"report.pdf\"",
        "Content-Transfer-Encoding: base64",
        "",
        "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==",
        "--b1--",
        "",
    ].joined(separator: "\r\n")

    /// The message without the `Received:` trace fields that MTAs put in front of it.
    static func withoutTrace(_ bytes: [UInt8]) -> String {
        var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        while let first = lines.first, first.hasPrefix("Received:") || first.hasPrefix(" ") || first.hasPrefix("\t") {
            lines.removeFirst()
        }
        return lines.joined(separator: "\r\n")
    }

    /// The binary set up as the filter of `postfix`: corp.test is internal, mail goes back
    /// through Postfix's return smtpd.
    func retract(behind postfix: PostfixInstance, _ extra: [String: String] = [:]) -> RetractBinary {
        var binary = cli
        binary.environment = [
            "RETRACT_SMTP_URL": "smtp://127.0.0.1:\(postfix.returnPort)", "RETRACT_INTERNAL_DOMAINS": "corp.test",
            "RETRACT_FROM": "retract@corp.test",
        ].merging(extra) { _, new in new }
        return binary
    }

    func waitFor(_ sink: SMTPSink, count: Int, postfix: PostfixInstance) async throws -> [SMTPSink.Received] {
        let deadline = Date().addingTimeInterval(90)
        var received: [SMTPSink.Received] = []
        while Date() < deadline {
            received = try sink.received()
            if received.count >= count { return received }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("only \(received.count) of \(count) mails arrived; postfix: \(postfix.log.suffix(1500))")
        return received
    }

    @Test(
        "To external, Cc internal, Bcc external through Postfix: the colleague gets the original, each outsider a link that opens it, the sender a receipt whose manage link revokes; revoked links answer 410"
    )
    func throughPostfix() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        // Given Retract behind a private Postfix, both delivering to the sink
        let deployment = try await GatewayDeployment.start(in: root, tests: self)
        defer { deployment.stop() }
        let (sink, postfix, httpPort) = (deployment.sink, deployment.postfix, deployment.httpPort)

        // When Alice's mail client submits to Postfix
        try submitWithSMTPLib(
            port: postfix.port, from: "alice@corp.test",
            to: ["bob@partner.test", "carol@corp.test", "dave@other.test"], message: Self.original)

        // Then Carol (internal) gets the original byte for byte but for the trace fields,
        // Bob and Dave a notification each, and Alice a receipt
        let mails = try await waitFor(sink, count: 4, postfix: postfix)
        let carol = try #require(mails.first { $0.recipients == ["carol@corp.test"] })
        #expect(Self.withoutTrace(carol.data) == Self.original)
        #expect(carol.mailFrom == "alice@corp.test")
        let receipt = try #require(mails.first { $0.recipients == ["alice@corp.test"] })
        let manageLink = try #require(try ParsedMail(parsing: receipt.data).links.first { $0.contains("/app/manage#") })
        var links: [Link] = []
        for outsider in ["bob@partner.test", "dave@other.test"] {
            let mail = try #require(mails.first { $0.recipients == [outsider] }, "no mail for \(outsider)")
            let parsed = try ParsedMail(parsing: mail.data)
            #expect(parsed.header("Subject")?.contains("Q3 figures") == true)
            #expect(!String(decoding: mail.data, as: UTF8.self).contains("JVBERi0xLjQK"))
            #expect(parsed.header("Bcc") == nil)
            let link = try Link.parse(try #require(parsed.links.first { $0.contains("/m/") }))
            links.append(link)
            let base = "http://127.0.0.1:\(httpPort)/m/\(link.token.base64url)"
            let (opened, body, _) = try await HTTP.postJSON("\(base)/open", ["key": link.linkKey.base64url])
            #expect(opened == 200)
            let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            #expect((object?["body_text"] as? String)?.contains("Numbers attached.") == true)
            let (downloaded, eml, _) = try await HTTP.postJSON(
                "\(base)/attachments/1", ["key": link.linkKey.base64url])
            #expect(downloaded == 200)
            #expect(Self.withoutTrace([UInt8](eml)) == Self.original)
            // And the attachment, a part of its own, downloads byte for byte
            let attachments = object?["attachments"] as? [[String: Any]] ?? []
            let pdf = try #require(attachments.first { $0["name"] as? String == "report.pdf" })
            let (gotPDF, pdfBytes, _) = try await HTTP.postJSON(
                "\(base)/attachments/\(pdf["index"] as? Int ?? 0)", ["key": link.linkKey.base64url])
            #expect(gotPDF == 200)
            #expect(pdfBytes == Data(base64Encoded: "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg=="))
        }

        // When Alice follows the receipt's manage link (no password) and revokes on that page
        let browser = HTTPFormClient()
        let manage = try await browser.get("http://127.0.0.1:\(httpPort)/app/manage")
        #expect(manage.status == 200)
        let capability = String(manageLink[manageLink.range(of: "#")!.upperBound...])
        let signedIn = try await browser.post(
            "http://127.0.0.1:\(httpPort)/app/manage",
            [("csrf", HTTPFormClient.hidden("csrf", in: manage.text) ?? ""), ("capability", capability)])
        #expect(signedIn.status == 303)
        let page = try #require(signedIn.location)
        let messagePage = try await browser.get("http://127.0.0.1:\(httpPort)\(page)")
        #expect(messagePage.status == 200)
        let revoked = try await browser.post(
            "http://127.0.0.1:\(httpPort)\(page)/revoke",
            [
                ("csrf", HTTPFormClient.hidden("csrf", in: messagePage.text) ?? ""), ("scope", "all"),
                ("reason", "wrong figures"), ("notify", "all"), ("action", "confirm"),
            ])
        #expect(revoked.status == 200)

        // Then the outsiders' links answer 410
        for link in links {
            let (status, _, _) = try await HTTP.get("http://127.0.0.1:\(httpPort)/m/\(link.token.base64url)")
            #expect(status == 410)
        }
    }

    @Test(
        "With RETRACT_GATEWAY_HOLD the receipt arrives at once, and Undo on its manage link's page within the hold means the outsider never gets the notification"
    )
    func holdAndUndo() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        // Given Retract behind Postfix holding sealed mail for an hour
        let deployment = try await GatewayDeployment.start(in: root, tests: self, ["RETRACT_GATEWAY_HOLD": "1h"])
        defer { deployment.stop() }
        let (sink, postfix, base) = (deployment.sink, deployment.postfix, deployment.base)

        // When Alice's client submits a message To an outsider, Cc a colleague
        try submitWithSMTPLib(
            port: postfix.port, from: "alice@corp.test", to: ["bob@partner.test", "carol@corp.test"],
            message: Self.original)

        // Then the colleague's copy and the receipt arrive, and the receipt says the links wait
        let mails = try await waitFor(sink, count: 2, postfix: postfix)
        #expect(!mails.contains { $0.recipients == ["bob@partner.test"] })
        let receipt = try ParsedMail(parsing: try #require(mails.first { $0.recipients == ["alice@corp.test"] }).data)
        let text = receipt.textBody ?? ""
        #expect(text.contains("Nothing has left for them yet: the links go out at"))
        let manageLink = try #require(receipt.links.first { $0.contains("/app/manage#") })
        let id = try #require(text.firstMatch(of: /retract status ([0-9a-f]{32})/)?.1).description

        // When she opens the manage link and presses Undo on the message page
        let browser = HTTPFormClient()
        let manage = try await browser.get("\(base)/app/manage")
        let signedIn = try await browser.post(
            "\(base)/app/manage",
            [
                ("csrf", HTTPFormClient.hidden("csrf", in: manage.text) ?? ""),
                ("capability", String(manageLink[manageLink.range(of: "#")!.upperBound...])),
            ])
        let page = try #require(signedIn.location)
        let messagePage = try await browser.get("\(base)\(page)")
        #expect(messagePage.text.contains("undo-form"), "the page offers Undo while the mail is held")
        let undone = try await browser.post(
            "\(base)/app/messages/\(id)/cancel", [("csrf", HTTPFormClient.hidden("csrf", in: messagePage.text) ?? "")])
        #expect(undone.status == 303)
        #expect(undone.location?.contains("notice=cancelled") == true)

        // Then the notification is cancelled for good (it can never leave), and the sink has
        // only the two mails
        let status = try JSONSerialization.jsonObject(
            with: Data(try deployment.gateway.run(["status", id, "--json"]).stdout.utf8)) as? [String: Any]
        let recipients = status?["recipients"] as? [[String: Any]] ?? []
        #expect(recipients.map { $0["address"] as? String } == ["bob@partner.test"])
        #expect(recipients.first?["delivery"] as? String == "cancelled")
        #expect(try sink.received().count == 2)
    }

    @Test(
        "kill -9 of retract serve while Postfix feeds it 200 messages: Postfix retries and every message arrives, duplicates only of mails in flight"
    )
    func killedWhileFed() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let sink = try await SMTPSink(in: root)
        defer { sink.stop() }
        let filterPort = try PostfixInstance.freePort()
        let postfix = try PostfixInstance(relayPort: sink.port, contentFilter: filterPort, in: root)
        defer { postfix.stop() }
        let gateway = retract(behind: postfix, ["RETRACT_RECEIPTS": "off"])
        #expect(try gateway.run(["init"]).status == 0)
        var (server, _) = try gateway.startServer(extra: ["--smtp-listen", "127.0.0.1:\(filterPort)"])
        #expect(try PostfixInstance.waitForPortOpen(filterPort))

        // Given 200 messages submitted to Postfix, each to one outsider, 20 ms apart (so the
        // feed lasts at least 4 s and the kill below lands while mail is still flowing even
        // when this test's task waits long for a thread)
        let count = 200
        let feeder = Process()
        feeder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        feeder.arguments = [
            "python3", "-c",
            """
            import smtplib, time
            with smtplib.SMTP("127.0.0.1", \(postfix.port), timeout=60) as s:
                for n in range(\(count)):
                    time.sleep(0.02)
                    s.sendmail("alice@corp.test", ["x%d@partner.test" % n],
                        ("From: alice@corp.test\\r\\nTo: x%d@partner.test\\r\\nSubject: msg %d\\r\\n"
                         "Message-ID: <m%d@corp.test>\\r\\n\\r\\nbody %d\\r\\n" % (n, n, n, n)).encode())
            """,
        ]
        try feeder.runSafely()

        // When retract serve is killed once some have gone through, and started again
        let deadline = Date().addingTimeInterval(60)
        while try sink.received().count < 20 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        let arrivedBeforeKill = try sink.received().count
        #expect(arrivedBeforeKill < count, "the kill must land while mail is still flowing")
        (server, _) = try gateway.startServer(extra: ["--smtp-listen", "127.0.0.1:\(filterPort)"])
        defer { server.terminate(); server.waitUntilExit() }
        feeder.waitUntilExit()
        #expect(feeder.terminationStatus == 0)
        postfix.flush()

        // Then every message's notification arrives; the only duplicates are of mails that
        // were in flight: up to 10 Postfix deliveries to the filter and 4 outbox connections
        var subjects: [String: Int] = [:]
        let end = Date().addingTimeInterval(120)
        while Date() < end {
            subjects = [:]
            for mail in try sink.received() {
                let subject = try ParsedMail(parsing: mail.data).header("Subject") ?? ""
                if let range = subject.range(of: #"msg \d+"#, options: .regularExpression) {
                    subjects[String(subject[range]), default: 0] += 1
                }
            }
            if subjects.count == count { break }
            postfix.flush()
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(subjects.count == count, "missing: \(count - subjects.count); postfix: \(postfix.log.suffix(800))")
        let duplicates = subjects.values.reduce(0) { $0 + $1 - 1 }
        #expect(duplicates <= 14, "\(duplicates) duplicates; \(arrivedBeforeKill) had arrived before the kill")
    }
}
