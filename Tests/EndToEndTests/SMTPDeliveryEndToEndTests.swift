import Foundation
import Mail
import RetractTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("End to end: delivery over SMTP to a real server (aiosmtpd)", .serialized)
struct SMTPDeliveryEndToEndTests {
    let root: URL
    let cli: RetractBinary

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retract-e2e-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var cli = RetractBinary(workingDirectory: root)
        cli.environment["RETRACT_RETRY_BASE"] = "1s"
        self.cli = cli
    }

    func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// `retract init` in the test's folder, then the CLI with `RETRACT_SMTP_URL` naming `sink`.
    func initialized(deliveringTo sink: SMTPSink) throws -> RetractBinary {
        #expect(try cli.run(["init"]).status == 0)
        var smtp = cli
        smtp.environment["RETRACT_SMTP_URL"] = "smtp://127.0.0.1:\(sink.port)"
        return smtp
    }

    func send(_ cli: RetractBinary, _ extra: [String]) throws -> RetractBinary.Result {
        try cli.run(["send", "--from", "Alice <alice@corp.test>", "--subject", "季度报告", "--body", "b", "--json"] + extra)
    }

    /// Polls until `condition` holds or `seconds` pass.
    func eventually(_ seconds: Double, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try condition()
    }

    @Test("each notification reaches the server with its recipient alone in the envelope and the Chinese subject intact")
    func envelopes() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let sink = try await SMTPSink([], in: root)
        defer { sink.stop() }
        #expect(try cli.run(["init"]).status == 0)
        let result = try send(cli, [
            "--to", "bob@partner.test", "--cc", "carol@partner.test", "--bcc", "dave@hidden.test",
            "--smtp-url", "smtp://127.0.0.1:\(sink.port)",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let received = try sink.received()
        #expect(received.count == 3)
        #expect(Set(received.map(\.recipients)) == [["bob@partner.test"], ["carol@partner.test"], ["dave@hidden.test"]])
        for mail in received {
            #expect(mail.mailFrom == "retract@localhost")
            let parsed = try ParsedMail(parsing: mail.data)
            #expect(parsed.header("Subject") == "季度报告")
            if mail.recipients != ["dave@hidden.test"] {
                #expect(!String(decoding: mail.data, as: UTF8.self).contains("dave@hidden.test"))
            }
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(".retract/outbox").path))
    }

    @Test("a wrong password and an untrusted certificate each fail clearly and leave the mail queued")
    func tlsAndAuthFailuresKeepMailQueued() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let certificates = try SMTPTestCertificates(in: root)
        let sink = try await SMTPSink(["--starttls", "--auth", "retract:s3cret"] + certificates.sinkOptions, in: root)
        defer { sink.stop() }
        #expect(try cli.run(["init"]).status == 0)

        var wrongPassword = cli
        wrongPassword.environment["RETRACT_SMTP_CA_FILE"] = certificates.caFile
        let first = try send(wrongPassword, [
            "--to", "bob@partner.test", "--smtp-url", "smtp+starttls://retract:wrong@localhost:\(sink.port)",
        ])
        #expect(first.status == 0, "send succeeds: the mail is queued")
        let untrusted = try send(cli, [
            "--to", "carol@partner.test", "--smtp-url", "smtp+starttls://retract:s3cret@localhost:\(sink.port)",
        ])
        #expect(untrusted.status == 0)
        #expect(try sink.received().isEmpty)

        let outbox = try #require(try json(try cli.run(["outbox", "--json"]).stdout) as? [[String: Any]])
        #expect(outbox.count == 2)
        #expect(outbox.allSatisfy { $0["state"] as? String == "retrying" })
        let errors = outbox.compactMap { $0["last_error"] as? String }.joined(separator: "\n")
        #expect(errors.lowercased().contains("auth"))
        #expect(errors.contains("localhost"))
        #expect(!errors.contains("s3cret") && !errors.contains("wrong@"), "no password in an error")

        // Once the operator fixes the configuration, the queued mail goes out.
        var fixed = cli
        fixed.environment["RETRACT_SMTP_CA_FILE"] = certificates.caFile
        try await Task.sleep(for: .seconds(3))
        let retry = try fixed.run(["deliver", "--smtp-url", "smtp+starttls://retract:s3cret@localhost:\(sink.port)"])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(try sink.received().count == 2)
    }

    @Test("with the server down, send succeeds and the mail arrives once the server is back")
    func serverDown() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        let probe = try await SMTPSink([], in: root)
        let port = probe.port
        probe.stop()
        var smtp = cli
        smtp.environment["RETRACT_SMTP_URL"] = "smtp://127.0.0.1:\(port)"
        let result = try send(smtp, ["--to", "bob@partner.test"])
        #expect(result.status == 0, "\(result.stderr)")
        let receipt = try #require(try json(result.stdout) as? [String: Any])
        #expect((receipt["recipients"] as? [[String: Any]])?.first?["delivery"] as? String == "retrying")
        let sink = try await SMTPSink([], port: port, in: root)
        defer { sink.stop() }
        let (server, _) = try smtp.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        #expect(try await eventually(20) { try sink.received().count == 1 })
    }

    @Test("send, deliver and revoke end every SMTP session they opened with QUIT before they exit")
    func commandsSayQuit() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let sink = try await SMTPSink([], in: root)
        defer { sink.stop() }
        let smtp = try initialized(deliveringTo: sink)
        let sent = try send(smtp, ["--to", "bob@partner.test", "--delay", "1s"])
        #expect(sent.status == 0, "\(sent.stderr)")
        try await Task.sleep(for: .seconds(1.2))
        #expect(try smtp.run(["deliver"]).status == 0)
        let id = try #require((try json(sent.stdout) as? [String: Any])?["id"] as? String)
        #expect(try smtp.run(["revoke", id]).status == 0)
        #expect(try sink.received().count == 3, "the notification, the withdrawal notice and the report")
        #expect(try await eventually(5) { try sink.quits().count == sink.greetings().count })
        #expect(try sink.greetings().count >= 2, "deliver and revoke each opened a session")
    }

    @Test("RETRACT_SMTP_CONNECTIONS outside 1...16 is refused with one line, nothing sent")
    func badConnectionCount() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try cli.run(["init"]).status == 0)
        for bad in ["0", "17", "two"] {
            var smtp = cli
            smtp.environment["RETRACT_SMTP_URL"] = "smtp://127.0.0.1:9"
            smtp.environment["RETRACT_SMTP_CONNECTIONS"] = bad
            let result = try smtp.run(["deliver"])
            #expect(result.status != 0)
            #expect(
                result.stderr
                    == "retract: error: RETRACT_SMTP_CONNECTIONS \"\(bad)\" must be a whole number from 1 to 16\n")
        }
    }

    @Test("a 5xx on one RCPT fails that recipient only")
    func oneRecipientRefused() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let sink = try await SMTPSink(["--reject", "nobody@partner.test"], in: root)
        defer { sink.stop() }
        #expect(try cli.run(["init"]).status == 0)
        let result = try send(cli, [
            "--to", "bob@partner.test", "--to", "nobody@partner.test", "--smtp-url", "smtp://127.0.0.1:\(sink.port)",
        ])
        let id = try #require((try json(result.stdout) as? [String: Any])?["id"] as? String)
        #expect(try sink.received().map(\.recipients) == [["bob@partner.test"]])
        let status = try #require(try json(try cli.run(["status", id, "--json"]).stdout) as? [String: Any])
        let recipients = try #require(status["recipients"] as? [[String: Any]])
        let nobody = try #require(recipients.first { $0["address"] as? String == "nobody@partner.test" })
        #expect(nobody["delivery"] as? String == "failed")
        #expect((nobody["delivery_error"] as? String)?.contains("550") == true)
        #expect(recipients.first { $0["address"] as? String == "bob@partner.test" }?["delivery"] as? String == "sent")
    }

    @Test("killing serve with SIGKILL in the middle of a 500-mail batch loses nothing; duplicates only of in-flight mails, one per connection")
    func crashMidBatch() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        // 20 ms per mail, so the batch takes long enough to be killed in the middle.
        let sink = try await SMTPSink(["--delay-ms", "20"], in: root)
        defer { sink.stop() }
        var smtp = try initialized(deliveringTo: sink)
        let connections = 3
        smtp.environment["RETRACT_SMTP_CONNECTIONS"] = "\(connections)"
        let recipients = (0..<500).map { "r\($0)@partner.test" }
        let sent = try send(smtp, recipients.flatMap { ["--bcc", $0] } + ["--delay", "1s"])
        #expect(sent.status == 0, "\(sent.stderr)")
        let (first, _) = try smtp.startServer()
        let started = try await eventually(30) { try sink.received().count >= 50 }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(started)
        let beforeRestart = try sink.received().count
        #expect(beforeRestart < 500, "the kill came mid-batch")
        let (second, _) = try smtp.startServer()
        defer { second.terminate(); second.waitUntilExit() }
        #expect(try await eventually(60) { Set(try sink.received().flatMap(\.recipients)).count == 500 })
        let received = try sink.received()
        let byRecipient = Dictionary(grouping: received, by: { $0.recipients.joined() })
        let duplicates = byRecipient.values.filter { $0.count > 1 }
        // Each connection has at most one mail accepted and not yet recorded at any moment.
        #expect(duplicates.count <= connections, "only the mails in flight at the kill may arrive twice")
        for copies in duplicates {
            let ids = try Set(copies.map { try ParsedMail(parsing: $0.data).header("Message-ID") })
            #expect(ids.count == 1, "a duplicate carries the same Message-ID")
        }
    }

    @Test("a notification revoked inside the undo window never reaches the server")
    func revokedInWindowNeverSent() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let sink = try await SMTPSink([], in: root)
        defer { sink.stop() }
        let smtp = try initialized(deliveringTo: sink)
        let (server, _) = try smtp.startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let result = try send(smtp, ["--to", "bob@partner.test", "--delay", "2s"])
        let id = try #require((try json(result.stdout) as? [String: Any])?["id"] as? String)
        #expect(try smtp.run(["revoke", id]).status == 0)
        try await Task.sleep(for: .seconds(4))
        #expect(try sink.received().allSatisfy { !$0.recipients.contains("bob@partner.test") })
    }
}
