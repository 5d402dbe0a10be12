import Foundation
import Testing

@testable import Mail

@Suite("SMTP client state machine")
struct SMTPClientStateMachineTests {
    typealias Action = SMTPClientStateMachine.Action

    private static func reply(_ code: Int, _ lines: String...) -> SMTPReply {
        SMTPReply(code: code, lines: lines)
    }

    private static let greeting = reply(220, "mx.example.org ESMTP")
    private static let ok = reply(250, "2.0.0 OK")
    private static let goAhead = reply(354, "go ahead")

    private static func ehlo(_ keywords: String...) -> SMTPReply {
        SMTPReply(code: 250, lines: ["mx.example.org"] + keywords)
    }

    private static func settings(
        security: SMTPConfiguration.Security = .plain, username: String? = nil, password: String? = nil
    ) -> SMTPClientStateMachine.Settings {
        .init(
            heloName: "client.example.com", security: security, username: username, password: password,
            server: "mx.example.org:25")
    }

    private static let mail = SMTPMailTransaction(
        id: "m1",
        envelope: MailEnvelope(mailFrom: "retract@example.com", recipients: ["bob@example.org", "carol@example.org"]),
        content: Array("Subject: hi\r\n\r\nhello\r\n".utf8))

    /// A machine taken through greeting and EHLO with the given keywords.
    private static func readyMachine(_ keywords: String...) -> SMTPClientStateMachine {
        var machine = SMTPClientStateMachine(settings: Self.settings())
        _ = machine.receive(Self.greeting)
        _ = machine.receive(SMTPReply(code: 250, lines: ["mx.example.org"] + keywords))
        return machine
    }

    private static func report(_ action: Action) throws -> SMTPDeliveryReport {
        guard case .mailFinished(let report) = action else {
            Issue.record("expected mailFinished, got \(action)")
            throw CancellationError()
        }
        return report
    }

    @Test("happy path without PIPELINING: one command per reply, then QUIT")
    func happyPathWithoutPipelining() throws {
        var machine = SMTPClientStateMachine(settings: Self.settings())
        #expect(machine.receive(Self.greeting) == .send([.ehlo("client.example.com")]))
        #expect(machine.receive(Self.ehlo("SIZE 1000000", "8BITMIME")) == .sessionReady)

        let size = Self.mail.content.count
        #expect(machine.startMail(Self.mail) == .send([.mailFrom("retract@example.com", parameters: ["SIZE=\(size)"])]))
        #expect(machine.receive(Self.ok) == .send([.recipient("bob@example.org")]))
        #expect(machine.receive(Self.ok) == .send([.recipient("carol@example.org")]))
        #expect(machine.receive(Self.ok) == .send([.data]))
        #expect(machine.receive(Self.goAhead) == .send([.content(Self.mail.content)]))
        let report = try Self.report(machine.receive(Self.reply(250, "2.0.0 queued as 1234")))
        #expect(report.isDelivered)
        #expect(report.acceptedRecipients == ["bob@example.org", "carol@example.org"])
        #expect(report.dataReply == Self.reply(250, "2.0.0 queued as 1234"))
        #expect(report.failure == nil)
        #expect(!machine.needsReset)

        #expect(machine.quit() == .send([.quit]))
        #expect(machine.receive(Self.reply(221, "bye")) == .closed)
    }

    @Test("happy path with PIPELINING: MAIL, every RCPT and DATA leave in one write")
    func happyPathWithPipelining() throws {
        var machine = Self.readyMachine("PIPELINING", "SIZE", "8BITMIME")
        let size = Self.mail.content.count
        #expect(
            machine.startMail(Self.mail)
                == .send([
                    .mailFrom("retract@example.com", parameters: ["SIZE=\(size)"]), .recipient("bob@example.org"),
                    .recipient("carol@example.org"), .data,
                ]))
        #expect(machine.receive(Self.ok) == .awaitReply)
        #expect(machine.receive(Self.ok) == .awaitReply)
        #expect(machine.receive(Self.ok) == .awaitReply)
        #expect(machine.receive(Self.goAhead) == .send([.content(Self.mail.content)]))
        #expect(try Self.report(machine.receive(Self.ok)).isDelivered)
        #expect(machine.isReady)
    }

    @Test("EHLO refused with 5xx falls back to HELO, and then no extension is used")
    func heloFallback() throws {
        var machine = SMTPClientStateMachine(settings: Self.settings())
        _ = machine.receive(Self.greeting)
        #expect(machine.receive(Self.reply(502, "5.5.1 unrecognized command")) == .send([.helo("client.example.com")]))
        #expect(machine.receive(Self.reply(250, "mx.example.org")) == .sessionReady)
        #expect(machine.startMail(Self.mail) == .send([.mailFrom("retract@example.com", parameters: [])]))
    }

    @Test("STARTTLS required but not offered fails before anything else is sent")
    func startTLSNotOffered() throws {
        var machine = SMTPClientStateMachine(
            settings: Self.settings(security: .startTLS, username: "alice", password: "s3cret"))
        _ = machine.receive(Self.greeting)
        guard case .fail(let error, nil) = machine.receive(Self.ehlo("AUTH PLAIN LOGIN", "SIZE")) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error == MailError.tlsFailed)
        #expect(!error.isTemporary && error.isConfigurationProblem)
        #expect(error.description.contains("does not offer STARTTLS"))
        #expect(!error.description.contains("s3cret"))
    }

    @Test("STARTTLS, EHLO again with fresh capabilities, then AUTH PLAIN")
    func startTLSThenAuth() throws {
        var machine = SMTPClientStateMachine(
            settings: Self.settings(security: .startTLS, username: "alice", password: "s3cret"))
        _ = machine.receive(Self.greeting)
        #expect(machine.receive(Self.ehlo("STARTTLS", "PIPELINING")) == .send([.startTLS]))
        #expect(machine.receive(Self.reply(220, "2.0.0 ready to start TLS")) == .startTLS)
        #expect(machine.tlsEstablished() == .send([.ehlo("client.example.com")]))
        #expect(
            machine.receive(Self.ehlo("AUTH LOGIN PLAIN"))
                == .send([.authPlain(initialResponse: "AGFsaWNlAHMzY3JldA==")]))
        #expect(!machine.capabilities.pipelining)  // forgotten after TLS, as RFC 3207 requires
        #expect(machine.receive(Self.reply(235, "2.7.0 Authentication successful")) == .sessionReady)
    }

    @Test("AUTH LOGIN sends the user name and the password in answer to the two challenges")
    func authLogin() throws {
        var machine = SMTPClientStateMachine(
            settings: Self.settings(security: .implicitTLS, username: "alice", password: "s3cret"))
        _ = machine.receive(Self.greeting)
        #expect(machine.receive(Self.ehlo("AUTH=LOGIN")) == .send([.authLogin]))
        #expect(machine.receive(Self.reply(334, "VXNlcm5hbWU6")) == .send([.authResponse("YWxpY2U=")]))
        #expect(machine.receive(Self.reply(334, "UGFzc3dvcmQ6")) == .send([.authResponse("czNjcmV0")]))
        #expect(machine.receive(Self.reply(235, "ok")) == .sessionReady)
    }

    @Test("AUTH refused with 535 is a permanent authentication failure, not temporary")
    func authFailure() throws {
        var machine = SMTPClientStateMachine(
            settings: Self.settings(security: .implicitTLS, username: "alice", password: "s3cret"))
        _ = machine.receive(Self.greeting)
        _ = machine.receive(Self.ehlo("AUTH PLAIN"))
        guard case .fail(let error, nil) = machine.receive(Self.reply(535, "5.7.8 Authentication credentials invalid"))
        else {
            Issue.record("expected a failure")
            return
        }
        #expect(error == MailError.authenticationFailed)
        #expect(!error.isTemporary && error.isConfigurationProblem)
        #expect(error.smtpReply == "535 5.7.8 Authentication credentials invalid")
        #expect(error.description.contains("authentication failed"))
        #expect(!error.description.contains("s3cret") && !error.description.contains("AGFsaWNl"))
    }

    @Test("AUTH answered 454 is a temporary authentication failure")
    func authTemporaryFailure() throws {
        var machine = SMTPClientStateMachine(
            settings: Self.settings(security: .implicitTLS, username: "alice", password: "s3cret"))
        _ = machine.receive(Self.greeting)
        _ = machine.receive(Self.ehlo("AUTH PLAIN"))
        guard case .fail(let error, _) = machine.receive(Self.reply(454, "4.7.0 Temporary authentication failure"))
        else {
            Issue.record("expected a failure")
            return
        }
        #expect(error == MailError.authenticationFailed && error.isTemporary && !error.isConfigurationProblem)
    }

    @Test("credentials but no AUTH offered, or only unknown mechanisms, fail clearly")
    func noUsableAuth() throws {
        for keywords in [["SIZE"], ["AUTH CRAM-MD5 XOAUTH2"]] {
            var machine = SMTPClientStateMachine(
                settings: Self.settings(security: .implicitTLS, username: "alice", password: "s3cret"))
            _ = machine.receive(Self.greeting)
            guard case .fail(let error, nil) = machine.receive(SMTPReply(code: 250, lines: ["mx"] + keywords)) else {
                Issue.record("expected a failure")
                continue
            }
            #expect(error == MailError.authenticationFailed && !error.isTemporary)
        }
    }

    @Test("RCPT 550 for one of two recipients: the mail goes to the other, the result says who failed how")
    func partialRecipients() throws {
        var machine = Self.readyMachine()
        _ = machine.startMail(Self.mail)
        _ = machine.receive(Self.ok)
        let refusal = Self.reply(550, "5.1.1 <bob@example.org>: no such user")
        #expect(machine.receive(refusal) == .send([.recipient("carol@example.org")]))
        #expect(machine.receive(Self.ok) == .send([.data]))
        #expect(machine.receive(Self.goAhead) == .send([.content(Self.mail.content)]))
        let report = try Self.report(machine.receive(Self.ok))

        #expect(report.recipients[0].outcome == .permanent(refusal))
        #expect(report.recipients[1].outcome == .accepted)
        #expect(report.acceptedRecipients == ["carol@example.org"])
        #expect(!report.isDelivered)
        let failure = try #require(report.failure)
        #expect(failure == MailError.rejected && !failure.isTemporary)
        #expect(failure.smtpReply == "550 5.1.1 <bob@example.org>: no such user")
        #expect(failure.description.contains("bob@example.org") && !failure.description.contains("carol@example.org ("))
        #expect(!machine.needsReset)  // the transaction completed
    }

    @Test("a 4xx for a recipient is a temporary outcome for that recipient")
    func temporaryRecipient() throws {
        var machine = Self.readyMachine("PIPELINING")
        _ = machine.startMail(Self.mail)
        _ = machine.receive(Self.ok)
        _ = machine.receive(Self.reply(450, "4.2.1 mailbox busy"))
        _ = machine.receive(Self.reply(452, "4.5.3 too many recipients"))
        let report = try Self.report(machine.receive(Self.reply(554, "5.5.1 no valid recipients")))
        #expect(
            report.recipients.map(\.outcome) == [
                .temporary(Self.reply(450, "4.2.1 mailbox busy")),
                .temporary(Self.reply(452, "4.5.3 too many recipients")),
            ])
        #expect(report.failure == MailError.rejected && report.failure?.isTemporary == true)
        #expect(machine.needsReset)
    }

    @Test("421 in the middle of a transaction ends the session with a temporary error")
    func serviceClosing() throws {
        var machine = Self.readyMachine()
        _ = machine.startMail(Self.mail)
        _ = machine.receive(Self.ok)
        guard case .fail(let error, let report?) = machine.receive(Self.reply(421, "4.3.2 shutting down")) else {
            Issue.record("expected a failure with a report")
            return
        }
        #expect(error.isTemporary && error.smtpReply == "421 4.3.2 shutting down")
        #expect(report.recipients.allSatisfy { $0.outcome.isTemporary })
        #expect(report.failure?.isTemporary == true)
        #expect(!report.contentSent)
    }

    @Test("a connection lost after the content went out leaves the recipients failed and marks the content sent")
    func lostAfterContent() throws {
        var machine = Self.readyMachine()
        _ = machine.startMail(Self.mail)
        _ = machine.receive(Self.ok)
        _ = machine.receive(Self.ok)
        _ = machine.receive(Self.ok)
        _ = machine.receive(Self.goAhead)
        let lost = MailError.connectionFailed.with("gone")
        guard case .fail(_, let report?) = machine.connectionFailed(lost) else {
            Issue.record("expected a failure with a report")
            return
        }
        #expect(report.contentSent)
        #expect(report.recipients.allSatisfy { $0.outcome == .failed(lost) })
        #expect(report.failure == MailError.connectionFailed)
        #expect(report.failure?.isTemporary == true)
    }

    @Test("when every recipient is refused no DATA is sent, and the next mail starts with RSET")
    func allRefusedThenReset() throws {
        var machine = Self.readyMachine()
        _ = machine.startMail(Self.mail)
        _ = machine.receive(Self.ok)
        _ = machine.receive(Self.reply(550, "no"))
        let report = try Self.report(machine.receive(Self.reply(550, "no")))
        #expect(report.acceptedRecipients.isEmpty && report.dataReply == nil)
        #expect(machine.needsReset)

        #expect(machine.startMail(Self.mail) == .send([.reset]))
        #expect(machine.receive(Self.ok) == .send([.mailFrom("retract@example.com", parameters: [])]))
        #expect(!machine.needsReset)
    }

    @Test("with PIPELINING, RSET joins the next batch, and a 354 after refusals gets an empty message")
    func pipelinedRefusals() throws {
        var machine = Self.readyMachine("PIPELINING")
        _ = machine.startMail(Self.mail)
        _ = machine.receive(Self.reply(553, "5.1.8 sender refused"))
        _ = machine.receive(Self.reply(503, "need MAIL"))
        _ = machine.receive(Self.reply(503, "need MAIL"))
        // A server that still answers DATA with 354 gets only the terminating dot.
        #expect(machine.receive(Self.goAhead) == .send([.content([])]))
        let report = try Self.report(machine.receive(Self.reply(554, "no valid recipients")))
        #expect(report.recipients.allSatisfy { $0.outcome == .permanent(Self.reply(553, "5.1.8 sender refused")) })
        #expect(!report.contentSent)

        #expect(!machine.needsReset)  // the dot was answered: the transaction is over, no RSET needed

        var second = Self.readyMachine("PIPELINING")
        _ = second.startMail(Self.mail)
        _ = second.receive(Self.reply(451, "4.3.0 try later"))
        _ = second.receive(Self.reply(503, "need MAIL"))
        _ = second.receive(Self.reply(503, "need MAIL"))
        _ = try Self.report(second.receive(Self.reply(503, "need RCPT")))
        guard case .send(let batch) = second.startMail(Self.mail) else {
            Issue.record("expected a batch")
            return
        }
        #expect(batch.first == .reset && batch.count == 5)
        #expect(second.receive(Self.ok) == .awaitReply)
    }

    @Test("SIZE, BODY=8BITMIME and SMTPUTF8 are declared when offered and needed")
    func mailParameters() throws {
        var machine = Self.readyMachine("SIZE 100000", "8BITMIME", "SMTPUTF8")
        let mail = SMTPMailTransaction(
            id: "m2", envelope: MailEnvelope(mailFrom: "retract@example.com", recipients: ["李@例子.中国"]),
            content: Array("Subject: 你好\r\n\r\n正文\r\n".utf8))
        #expect(
            machine.startMail(mail)
                == .send([
                    .mailFrom(
                        "retract@example.com", parameters: ["SIZE=\(mail.content.count)", "BODY=8BITMIME", "SMTPUTF8"])
                ]))
    }

    @Test("a mail the server cannot take finishes at once and leaves the session ready")
    func unsendable() throws {
        var machine = Self.readyMachine("SIZE 10")
        let big = try Self.report(machine.startMail(Self.mail))
        #expect(big.failure == MailError.rejected && big.failure?.isTemporary == false)
        #expect(big.failure?.description.contains("more than the 10 bytes") == true)
        #expect(machine.isReady)

        var plain = Self.readyMachine()
        let utf8 = SMTPMailTransaction(
            id: "m3", envelope: MailEnvelope(mailFrom: "retract@example.com", recipients: ["李@例子.中国"]),
            content: Array("x".utf8))
        #expect(try Self.report(plain.startMail(utf8)).failure?.description.contains("SMTPUTF8") == true)

        let injected = SMTPMailTransaction(
            id: "m4", envelope: MailEnvelope(mailFrom: "retract@example.com", recipients: ["bob@example.org>\r\nDATA"]),
            content: Array("x".utf8))
        #expect(try Self.report(plain.startMail(injected)).failure == MailError.invalidAddress)
        let none = SMTPMailTransaction(
            id: "m5", envelope: MailEnvelope(mailFrom: "retract@example.com", recipients: []), content: [])
        #expect(try Self.report(plain.startMail(none)).failure == MailError.missingRecipient)
        #expect(plain.isReady)
    }

    @Test("a refused greeting, a 3xx out of place and a reply nobody asked for end the session")
    func brokenSessions() throws {
        var refused = SMTPClientStateMachine(settings: Self.settings())
        guard case .fail(let error, nil) = refused.receive(Self.reply(554, "5.7.1 no service for you")) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error == MailError.rejected && !error.isTemporary)

        var confused = Self.readyMachine()
        _ = confused.startMail(Self.mail)
        guard case .fail(let protocolError, _) = confused.receive(Self.goAhead) else {
            Issue.record("expected a failure")
            return
        }
        #expect(protocolError == MailError.protocolViolation)

        var idle = Self.readyMachine()
        guard case .fail(let unsolicited, nil) = idle.receive(Self.ok) else {
            Issue.record("expected a failure")
            return
        }
        #expect(unsolicited == MailError.protocolViolation)
    }
}
