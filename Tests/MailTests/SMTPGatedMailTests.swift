import Foundation
import Testing

@testable import Mail

/// The delivery gate: the caller's last word before the server could accept a mail.
@Suite("SMTP client state machine: gated mail")
struct SMTPGatedMailTests {
    private static let greeting = SMTPReply(code: 220, lines: ["mx.example.org ESMTP"])
    private static let ok = SMTPReply(code: 250, lines: ["2.0.0 OK"])
    private static let goAhead = SMTPReply(code: 354, lines: ["go ahead"])

    private static let mail = SMTPMailTransaction(
        id: "m1", envelope: MailEnvelope(mailFrom: "retract@example.com", recipients: ["bob@example.org"]),
        content: Array("Subject: hi\r\n\r\nhello\r\n".utf8), gated: true)

    private static func readyMachine(_ keywords: String...) -> SMTPClientStateMachine {
        var machine = SMTPClientStateMachine(
            settings: .init(
                heloName: "client.example.com", security: .plain, username: nil, password: nil,
                server: "mx.example.org:25"))
        _ = machine.receive(Self.greeting)
        _ = machine.receive(SMTPReply(code: 250, lines: ["mx.example.org"] + keywords))
        return machine
    }

    @Test("without PIPELINING the gate is asked after RCPT is accepted and before DATA is sent")
    func gateBeforeData() {
        var machine = Self.readyMachine()
        #expect(machine.startMail(Self.mail) == .send([.mailFrom("retract@example.com", parameters: [])]))
        #expect(machine.receive(Self.ok) == .send([.recipient("bob@example.org")]))
        #expect(machine.receive(Self.ok) == .askGate)
        #expect(machine.gateOpened() == .send([.data]))
        #expect(machine.receive(Self.goAhead) == .send([.content(Self.mail.content)]))
        guard case .mailFinished(let report) = machine.receive(Self.ok) else {
            Issue.record("expected the mail to finish")
            return
        }
        #expect(report.isDelivered && !report.withheld)
    }

    @Test("without PIPELINING a closed gate withholds the mail, keeps the session, and the next mail starts with RSET")
    func closedGateBeforeData() {
        var machine = Self.readyMachine()
        _ = machine.startMail(Self.mail)
        _ = machine.receive(Self.ok)
        #expect(machine.receive(Self.ok) == .askGate)
        guard case .mailFinished(let report) = machine.gateClosed() else {
            Issue.record("expected the mail to finish")
            return
        }
        #expect(report.withheld && !report.contentSent && !report.isDelivered)
        #expect(machine.isReady && machine.needsReset)
        #expect(machine.startMail(Self.mail) == .send([.reset]))
    }

    @Test("with PIPELINING the gate is asked after DATA's 354, before any content, which then leaves with its final dot")
    func gateBeforeContent() {
        var machine = Self.readyMachine("PIPELINING")
        #expect(
            machine.startMail(Self.mail)
                == .send([.mailFrom("retract@example.com", parameters: []), .recipient("bob@example.org"), .data]))
        #expect(machine.receive(Self.ok) == .awaitReply)
        #expect(machine.receive(Self.ok) == .awaitReply)
        #expect(machine.receive(Self.goAhead) == .askGateThenSend([.contentBody(Self.mail.content)]))
        #expect(machine.gateOpened() == .send([.endOfContent]))
        guard case .mailFinished(let report) = machine.receive(Self.ok) else {
            Issue.record("expected the mail to finish")
            return
        }
        #expect(report.isDelivered && report.contentSent)
    }

    @Test("with PIPELINING a closed gate after 354 ends the session without sending the content or its final dot")
    func closedGateAfterGoAhead() {
        var machine = Self.readyMachine("PIPELINING")
        _ = machine.startMail(Self.mail)
        _ = machine.receive(Self.ok)
        _ = machine.receive(Self.ok)
        #expect(machine.receive(Self.goAhead) == .askGateThenSend([.contentBody(Self.mail.content)]))
        guard case .fail(_, let report?) = machine.gateClosed() else {
            Issue.record("expected the session to end with a report")
            return
        }
        #expect(report.withheld && !report.contentSent && !report.isDelivered)
        #expect(!machine.isReady)
    }

    @Test("with PIPELINING the next mail's envelope goes out behind the final dot and takes over after its reply")
    func nextMailBehindTheDot() {
        let next = SMTPMailTransaction(
            id: "m2", envelope: MailEnvelope(mailFrom: "retract@example.com", recipients: ["carol@example.org"]),
            content: Array("Subject: two\r\n\r\nsecond\r\n".utf8), gated: true)
        var machine = Self.readyMachine("PIPELINING")
        _ = machine.startMail(Self.mail)
        _ = machine.receive(Self.ok)
        _ = machine.receive(Self.ok)
        _ = machine.receive(Self.goAhead)
        #expect(
            machine.gateOpened(next: next)
                == .send([
                    .endOfContent, .mailFrom("retract@example.com", parameters: []), .recipient("carol@example.org"),
                    .data,
                ]))
        guard case .mailFinished(let first) = machine.receive(Self.ok) else {
            Issue.record("expected the first mail to finish")
            return
        }
        #expect(first.id == "m1" && first.isDelivered)
        #expect(machine.hasMailInFlight && !machine.isReady)
        // The next mail's replies follow without a new MAIL FROM.
        #expect(machine.receive(Self.ok) == .awaitReply)
        #expect(machine.receive(Self.ok) == .awaitReply)
        #expect(machine.receive(Self.goAhead) == .askGateThenSend([.contentBody(next.content)]))
        #expect(machine.gateOpened() == .send([.endOfContent]))
        guard case .mailFinished(let second) = machine.receive(Self.ok) else {
            Issue.record("expected the second mail to finish")
            return
        }
        #expect(second.id == "m2" && second.isDelivered && machine.isReady)
    }

    @Test("a mail whose recipient is refused finishes without asking the gate")
    func refusedRecipientSkipsGate() {
        var machine = Self.readyMachine()
        _ = machine.startMail(Self.mail)
        _ = machine.receive(Self.ok)
        guard case .mailFinished(let report) = machine.receive(SMTPReply(code: 550, lines: ["5.1.1 no such user"]))
        else {
            Issue.record("expected the mail to finish")
            return
        }
        #expect(!report.withheld && !report.isDelivered)
    }

    @Test("a reply while the gate is pending is a protocol violation")
    func replyWhileGatePending() {
        var machine = Self.readyMachine()
        _ = machine.startMail(Self.mail)
        _ = machine.receive(Self.ok)
        _ = machine.receive(Self.ok)
        guard case .fail(let error, _) = machine.receive(Self.ok) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error == MailError.protocolViolation)
    }
}
