import Foundation
import Mail
import RetractTestSupport
import Seal
import Testing

@testable import RetractCore

/// A revocation renders its notices before its write transaction; these change a grant in
/// that window (through `revokeQueuingNotices(_:afterRendering:)`) and check that the
/// transaction decides from the state it finds, not the one it rendered from.
@Suite("Revoking while a grant changes under it")
struct RevocationRaceTests {
    struct Sent {
        let bench: TestBench
        let receipt: SendReceipt

        func link(_ address: String) throws -> Link {
            try Link.parse(try #require(receipt.recipients.first { $0.address == address }).link)
        }

        func open(_ address: String) async throws -> OpenedMessage {
            let link = try link(address)
            return try await bench.service.open(token: link.token, linkKey: link.linkKey)
        }

        func mails(to address: String) throws -> [ParsedMail] {
            try bench.deliveredMail().filter { $0.header("To")?.contains(address) == true }
        }
    }

    func sendToThree(delay: TimeInterval? = nil) async throws -> Sent {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(
                from: "Alice <alice@corp.test>", to: ["bob@partner.test", "carol@partner.test"],
                bcc: ["dave@hidden.test"], subject: "Price list", body: "Price: 100", delay: delay))
        return Sent(bench: bench, receipt: receipt)
    }

    @Test("a recipient who opens the message while the notices are rendered gets a correction, and the report says so")
    func openedMeanwhile() async throws {
        let sent = try await sendToThree()
        let report = try await sent.bench.service.revokeQueuingNotices(RevokeRequest(messageID: sent.receipt.messageID)) {
            _ = try await sent.open("bob@partner.test")
        }
        _ = await sent.bench.service.deliverDueMail()
        let bob = try #require(report.recipients.first { $0.address == "bob@partner.test" })
        #expect(bob.outcome == "revoked_after_open")
        #expect(bob.notice == "correction")
        #expect(bob.openedAt != nil)
        let notices = try sent.mails(to: "bob@partner.test").filter { $0.header("Subject") != "Price list" }
        #expect(notices.map { $0.header("Subject") } == ["Correction: Price list"])
        let toSender = try sent.mails(to: "alice@corp.test")
        #expect(toSender.count == 1)
        #expect(toSender.first?.textBody?.contains("bob@partner.test: withdrawn, but they had already opened it") == true)
        await #expect(throws: OpenFailure.self) { _ = try await sent.open("bob@partner.test") }
    }

    @Test("a grant another call revokes while the notices are rendered is reported already revoked and mailed once")
    func revokedMeanwhile() async throws {
        let sent = try await sendToThree()
        let report = try await sent.bench.service.revokeQueuingNotices(RevokeRequest(messageID: sent.receipt.messageID)) {
            _ = try await sent.bench.service.revoke(
                RevokeRequest(messageID: sent.receipt.messageID, recipients: ["carol@partner.test"], reason: "first"))
        }
        _ = await sent.bench.service.deliverDueMail()
        let carol = try #require(report.recipients.first { $0.address == "carol@partner.test" })
        #expect(carol.alreadyRevoked)
        #expect(carol.notice == "none")
        #expect(report.recipients.filter { !$0.alreadyRevoked }.map(\.address) == ["bob@partner.test", "dave@hidden.test"])
        let carolNotices = try sent.mails(to: "carol@partner.test").filter { $0.header("Subject") != "Price list" }
        #expect(carolNotices.count == 1)
        let reason = try sent.bench.service.status(messageID: sent.receipt.messageID).recipients
            .first { $0.address == "carol@partner.test" }?.revokeReason
        #expect(reason == "first")
    }

    @Test("a held notification delivered while the notices are rendered gets a withdrawal instead of a cancellation")
    func deliveredMeanwhile() async throws {
        let sent = try await sendToThree(delay: 30)
        let report = try await sent.bench.service.revokeQueuingNotices(RevokeRequest(messageID: sent.receipt.messageID)) {
            sent.bench.clock.advance(60)
            _ = await sent.bench.service.deliverDueMail()
        }
        _ = await sent.bench.service.deliverDueMail()
        #expect(report.recipients.allSatisfy { $0.outcome == "revoked_before_open" && $0.notice == "withdrawal" })
        for address in ["bob@partner.test", "carol@partner.test", "dave@hidden.test"] {
            let subjects = try sent.mails(to: address).compactMap { $0.header("Subject") }.sorted()
            #expect(subjects == ["Price list", "Withdrawn: Price list"], "\(address)")
        }
    }

    @Test("nothing changing meanwhile: one notice per recipient and one report, all queued before delivery")
    func unchanged() async throws {
        let sent = try await sendToThree()
        let before = try sent.bench.deliveredMail().count
        let report = try await sent.bench.service.revokeQueuingNotices(RevokeRequest(messageID: sent.receipt.messageID))
        #expect(try sent.bench.deliveredMail().count == before)
        let queued = try sent.bench.service.vault.pendingMail()
        #expect(queued.filter { $0.kind == .withdrawal }.count == 3)
        #expect(queued.filter { $0.kind == .report }.count == 1)
        #expect(report.recipients.allSatisfy { $0.notice == "withdrawal" && !$0.alreadyRevoked })
        await #expect(throws: OpenFailure.self) { _ = try await sent.open("carol@partner.test") }
    }
}
