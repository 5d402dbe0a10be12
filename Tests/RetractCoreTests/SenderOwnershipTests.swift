import Foundation
import Mail
import RetractTestSupport
import Seal
import Testing

@testable import RetractCore

@Suite("Messages scoped to their sender")
struct SenderOwnershipTests {
    func send(_ bench: TestBench, from: String, subject: String, delay: TimeInterval? = nil) async throws -> SendReceipt
    {
        try await bench.service.send(
            Draft(
                from: from, to: ["bob@partner.test"], cc: ["carol@partner.test"], subject: subject, body: "Price: 100",
                delay: delay))
    }

    @Test("a sender lists only their own messages")
    func listIsScoped() async throws {
        let bench = try TestBench()
        let alices = try await send(bench, from: "Alice <alice@corp.test>", subject: "Alice's")
        bench.clock.advance(1)
        _ = try await send(bench, from: "eve@corp.test", subject: "Eve's")
        let list = try bench.service.list(sender: "alice@corp.test")
        #expect(list.map(\.id) == [alices.messageID])
        #expect(list.first?.subject == "Alice's")
        #expect(try bench.service.list(sender: "nobody@corp.test").isEmpty)
    }

    @Test("another sender's message answers exactly like a missing one, for status, revoke and cancel")
    func otherSendersMessageIsNotFound() async throws {
        let bench = try TestBench()
        let eves = try await send(bench, from: "eve@corp.test", subject: "Eve's", delay: 600)
        let id = eves.messageID
        #expect(throws: RetractError.messageNotFound(id)) {
            try bench.service.status(messageID: id, sender: "alice@corp.test")
        }
        #expect(throws: RetractError.messageNotFound("ffffffffffffffffffffffffffffffff")) {
            try bench.service.status(messageID: "ffffffffffffffffffffffffffffffff", sender: "alice@corp.test")
        }
        await #expect(throws: RetractError.messageNotFound(id)) {
            try await bench.service.revoke(RevokeRequest(messageID: id), sender: "alice@corp.test")
        }
        await #expect(throws: RetractError.messageNotFound(id)) {
            try await bench.service.cancel(messageID: id, sender: "alice@corp.test")
        }
        let status = try bench.service.status(messageID: id, sender: "eve@corp.test")
        #expect(status.recipients.allSatisfy { $0.state == "live" })
        #expect(status.contentAvailable)
    }

    @Test("the owner can revoke their own message")
    func ownerRevokes() async throws {
        let bench = try TestBench()
        let sent = try await send(bench, from: "alice@corp.test", subject: "Mine")
        let report = try await bench.service.revoke(
            RevokeRequest(messageID: sent.messageID, reason: "wrong figures"), sender: "alice@corp.test")
        #expect(report.recipients.map(\.outcome) == ["revoked_before_open", "revoked_before_open"])
    }

    @Test("cancel inside the send delay cancels every notification, destroys the content and mails nobody")
    func cancelInsideDelay() async throws {
        // Given a message held by a 10-minute delay
        let bench = try TestBench()
        let sent = try await send(bench, from: "alice@corp.test", subject: "Oops", delay: 600)
        let bobLink = try Link.parse(try #require(sent.recipients.first { $0.address == "bob@partner.test" }).link)
        // When the sender cancels it
        let report = try await bench.service.cancel(messageID: sent.messageID, sender: "alice@corp.test")
        // Then every recipient is cancelled before delivery, with no notice
        #expect(report.recipients.map(\.outcome) == ["cancelled_before_delivery", "cancelled_before_delivery"])
        #expect(report.recipients.allSatisfy { $0.notice == "none" && !$0.alreadyRevoked })
        #expect(report.contentDestroyed)
        // And after the delay has passed nothing at all is delivered
        bench.clock.advance(3600)
        _ = await bench.service.deliverDueMail()
        #expect(try bench.deliveredMail().isEmpty)
        let status = try bench.service.status(messageID: sent.messageID, sender: "alice@corp.test")
        #expect(status.recipients.map(\.delivery) == ["cancelled", "cancelled"])
        #expect(!status.contentAvailable)
        // And the link does not open
        await #expect(throws: (any Error).self) {
            try await bench.service.open(token: bobLink.token, linkKey: bobLink.linkKey)
        }
        // And cancelling again reports them as already revoked
        let again = try await bench.service.cancel(messageID: sent.messageID, sender: "alice@corp.test")
        #expect(again.recipients.allSatisfy { $0.alreadyRevoked && $0.outcome == "cancelled_before_delivery" })
    }

    @Test("cancel after delivery is refused with tooLateToCancel and changes nothing")
    func cancelAfterDelivery() async throws {
        let bench = try TestBench()
        let sent = try await send(bench, from: "alice@corp.test", subject: "Out already")
        _ = await bench.service.deliverDueMail()
        #expect(try bench.deliveredMail().count == 2)
        await #expect(throws: RetractError.tooLateToCancel(sent.messageID)) {
            try await bench.service.cancel(messageID: sent.messageID, sender: "alice@corp.test")
        }
        let status = try bench.service.status(messageID: sent.messageID, sender: "alice@corp.test")
        #expect(status.recipients.allSatisfy { $0.state == "live" })
        #expect(status.contentAvailable)
    }
}
