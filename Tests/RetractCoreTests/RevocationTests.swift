import Foundation
import GRDB
import Mail
import RetractTestSupport
import Seal
import Testing

@testable import RetractCore
@testable import Vault

@Suite("Revoking a message")
struct RevocationTests {
    struct Sent {
        let bench: TestBench
        let receipt: SendReceipt
        func link(_ address: String) throws -> Link {
            try Link.parse(try #require(receipt.recipients.first { $0.address == address }).link)
        }
    }

    func sendToThree(delay: TimeInterval? = nil, locale: String = "en", file: Bool = false) async throws -> Sent {
        let bench = try TestBench()
        let attachments = file ? [try bench.makeFile(named: "prices.xlsx", size: 70_000)] : []
        let receipt = try await bench.service.send(
            Draft(
                from: "Alice <alice@corp.test>", to: ["bob@partner.test", "carol@partner.test"],
                bcc: ["dave@hidden.test"], subject: locale == "en" ? "Price list" : "价格表", body: "Price: 100",
                attachments: attachments, delay: delay, locale: locale))
        return Sent(bench: bench, receipt: receipt)
    }

    func open(_ sent: Sent, _ address: String) async throws -> OpenedMessage {
        let link = try sent.link(address)
        return try await sent.bench.service.open(token: link.token, linkKey: link.linkKey)
    }

    func mails(_ bench: TestBench, to address: String) throws -> [ParsedMail] {
        try bench.deliveredMail().filter { $0.header("To")?.contains(address) == true }
    }

    @Test("revoking one of three refuses that link with the right key; the other two still open")
    func revokeOne() async throws {
        let sent = try await sendToThree()
        let report = try await sent.bench.service.revoke(
            RevokeRequest(messageID: sent.receipt.messageID, recipients: ["carol@partner.test"], reason: "wrong address"))
        #expect(report.recipients.map(\.address) == ["carol@partner.test"])
        let refusal = await #expect(throws: OpenFailure.self) { try await open(sent, "carol@partner.test") }
        guard case .revoked(_, let refusalReason, _) = refusal else {
            Issue.record("expected revoked, got \(String(describing: refusal))")
            return
        }
        #expect(refusalReason == "wrong address")
        if case .revoked(_, let reason, _, _) = await sent.bench.service.linkState(token: try sent.link("carol@partner.test").token) {
            #expect(reason == "wrong address")
        } else {
            Issue.record("the page should say revoked")
        }
        _ = try await open(sent, "bob@partner.test")
        _ = try await open(sent, "dave@hidden.test")
        #expect(!report.contentDestroyed)
    }

    @Test("revoking the rest deletes the sealed parts")
    func revokeAllDeletesContent() async throws {
        let sent = try await sendToThree(file: true)
        let id = sent.receipt.messageID
        _ = try await sent.bench.service.revoke(RevokeRequest(messageID: id, recipients: ["carol@partner.test"]))
        let report = try await sent.bench.service.revoke(RevokeRequest(messageID: id))
        #expect(report.contentDestroyed)
        let rows = try await sent.bench.service.vault.reader.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sealed_parts WHERE message_id = ?", arguments: [id])
        }
        #expect(rows == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: sent.bench.service.vault.parts.directory.path)
            .filter { $0.hasPrefix(id) }
        #expect(files.isEmpty, "part files left after full revocation: \(files)")
    }

    @Test("after revocation neither the database file nor its WAL holds the destroyed share or wrapped DEK")
    func destroyedBytesLeaveTheDisk() async throws {
        let sent = try await sendToThree()
        let id = sent.receipt.messageID
        let before = try sent.bench.service.vault.grants(messageID: id)
        let secrets = before.flatMap { [[UInt8]($0.sealedShare!), [UInt8]($0.wrappedDek!)] }
        #expect(secrets.allSatisfy { $0.count == 72 })
        _ = try await sent.bench.service.revoke(RevokeRequest(messageID: id))
        let disk = try sent.bench.vaultFileBytes()
        let leaked = secrets.filter { disk.contains(bytes: $0) }.count
        #expect(leaked == 0, "destroyed key material still on disk")
    }

    @Test("outcomes: opened → revoked_after_open with a correction, unopened → revoked_before_open with a withdrawal")
    func outcomesAndNotices() async throws {
        let sent = try await sendToThree()
        _ = try await open(sent, "bob@partner.test")
        let report = try await sent.bench.service.revoke(
            RevokeRequest(messageID: sent.receipt.messageID, reason: "The price was wrong."))
        let bob = try #require(report.recipients.first { $0.address == "bob@partner.test" })
        let carol = try #require(report.recipients.first { $0.address == "carol@partner.test" })
        #expect(bob.outcome == "revoked_after_open")
        #expect(bob.notice == "correction")
        #expect(bob.openedAt != nil)
        #expect(carol.outcome == "revoked_before_open")
        #expect(carol.notice == "withdrawal")
        #expect(carol.openedAt == nil)
        let bobMails = try mails(sent.bench, to: "bob@partner.test")
        #expect(bobMails.count == 2)
        let correction = try #require(bobMails.first { $0.header("Subject")?.hasPrefix("Correction:") == true })
        #expect(correction.textBody?.contains("The price was wrong.") == true)
        let withdrawal = try #require(try mails(sent.bench, to: "carol@partner.test").first { $0.header("Subject")?.hasPrefix("Withdrawn:") == true })
        #expect(withdrawal.textBody?.contains("Price list") == true)
        let toSender = try mails(sent.bench, to: "alice@corp.test")
        #expect(toSender.count == 1)
        #expect(toSender.first?.textBody?.contains("bob@partner.test") == true)
    }

    @Test("notices thread under the recipient's notification")
    func noticesThread() async throws {
        let sent = try await sendToThree()
        let notification = try #require(try mails(sent.bench, to: "carol@partner.test").first)
        let original = try #require(notification.header("Message-ID"))
        _ = try await sent.bench.service.revoke(RevokeRequest(messageID: sent.receipt.messageID))
        let notice = try #require(try mails(sent.bench, to: "carol@partner.test").first { $0.header("Message-ID") != original })
        #expect(notice.header("In-Reply-To") == original)
        #expect(notice.header("References")?.contains(original) == true)
    }

    @Test("a zh-Hans message gets Chinese notices with the subject intact")
    func chineseNotices() async throws {
        let sent = try await sendToThree(locale: "zh-Hans")
        _ = try await open(sent, "bob@partner.test")
        _ = try await sent.bench.service.revoke(RevokeRequest(messageID: sent.receipt.messageID, reason: "价格有误"))
        let notice = try #require(try mails(sent.bench, to: "bob@partner.test").first { $0.header("Subject") != "价格表" })
        #expect(notice.header("Subject") == "更正：价格表")
        #expect(notice.textBody?.contains("价格有误") == true)
    }

    @Test("a replacement reaches each revoked recipient once, inside the correction notice, and opens")
    func replacement() async throws {
        let sent = try await sendToThree()
        _ = try await sent.bench.service.revoke(
            RevokeRequest(messageID: sent.receipt.messageID, recipients: ["carol@partner.test"], reason: "wrong address"))
        _ = try await open(sent, "bob@partner.test")
        let before = try sent.bench.deliveredMail().count
        let report = try await sent.bench.service.revoke(
            RevokeRequest(
                messageID: sent.receipt.messageID, reason: "corrected price",
                replacement: .init(subject: "Price list (corrected)", body: "Price: 120")))
        let replacementID = try #require(report.replacementId)
        let after = try sent.bench.deliveredMail()
        #expect(after.count == before + 3, "one notice each to bob and dave, one report to alice")
        for address in ["bob@partner.test", "dave@hidden.test"] {
            let notice = try #require(try mails(sent.bench, to: address).first { $0.header("Subject")?.hasPrefix("Correction:") == true })
            let link = try Link.parse(try #require(notice.links.first))
            let opened = try await sent.bench.service.open(token: link.token, linkKey: link.linkKey)
            #expect(opened.envelope.bodyText == "Price: 120")
            #expect(opened.messageID == replacementID)
        }
        #expect(try mails(sent.bench, to: "carol@partner.test").allSatisfy { $0.header("Subject")?.hasPrefix("Correction:") != true })
        let status = try sent.bench.service.status(messageID: replacementID)
        #expect(status.supersedes == sent.receipt.messageID)
        #expect(Set(status.recipients.map(\.address)) == ["bob@partner.test", "dave@hidden.test"])
        #expect(status.recipients.first { $0.address == "dave@hidden.test" }?.kind == "bcc")
        if case .revoked(_, _, let replaced, _) = await sent.bench.service.linkState(token: try sent.link("bob@partner.test").token) {
            #expect(replaced)
        } else {
            Issue.record("bob's old link should say revoked")
        }
    }

    @Test("revoking twice sends nothing the second time")
    func revokeTwice() async throws {
        let sent = try await sendToThree()
        _ = try await sent.bench.service.revoke(RevokeRequest(messageID: sent.receipt.messageID))
        let count = try sent.bench.deliveredMail().count
        let again = try await sent.bench.service.revoke(RevokeRequest(messageID: sent.receipt.messageID))
        #expect(again.recipients.allSatisfy { $0.alreadyRevoked })
        #expect(try sent.bench.deliveredMail().count == count)
    }

    @Test("revoking inside the send delay delivers nothing at all, even after the due time")
    func revokeInsideDelay() async throws {
        let sent = try await sendToThree(delay: 30)
        let report = try await sent.bench.service.revoke(RevokeRequest(messageID: sent.receipt.messageID))
        #expect(report.recipients.allSatisfy { $0.outcome == "cancelled_before_delivery" && $0.notice == "none" })
        sent.bench.clock.advance(60)
        _ = await sent.bench.service.deliverDueMail()
        let recipientsMail = try sent.bench.deliveredMail().filter { $0.header("To")?.contains("alice@corp.test") != true }
        #expect(recipientsMail.isEmpty)
    }

    @Test("--notify opened mails only those who opened it; none mails nobody")
    func notifyPolicies() async throws {
        let sent = try await sendToThree()
        _ = try await open(sent, "bob@partner.test")
        let report = try await sent.bench.service.revoke(
            RevokeRequest(messageID: sent.receipt.messageID, recipients: ["bob@partner.test", "carol@partner.test"], notify: .opened))
        #expect(report.recipients.map(\.notice) == ["correction", "none"])
        let quiet = try await sent.bench.service.revoke(
            RevokeRequest(messageID: sent.receipt.messageID, recipients: ["dave@hidden.test"], notify: .none))
        #expect(quiet.recipients.map(\.notice) == ["none"])
        #expect(try mails(sent.bench, to: "dave@hidden.test").count == 1)
        #expect(try mails(sent.bench, to: "carol@partner.test").count == 1)
    }

    @Test("bad requests change nothing", arguments: [
        "unknown message", "unknown recipient", "notify none with replacement", "unreadable replacement file",
    ])
    func badRequestsChangeNothing(_ scenario: String) async throws {
        let sent = try await sendToThree()
        var request = RevokeRequest(messageID: sent.receipt.messageID)
        switch scenario {
        case "unknown message": request.messageID = "00000000000000000000000000000000"
        case "unknown recipient": request.recipients = ["eve@elsewhere.test"]
        case "notify none with replacement":
            request.notify = .none
            request.replacement = .init(body: "x")
        default:
            request.replacement = .init(body: "x", attachments: [sent.bench.root.appendingPathComponent("missing.pdf")])
        }
        let mailBefore = try sent.bench.deliveredMail().count
        await #expect(throws: RetractError.self) { try await sent.bench.service.revoke(request) }
        let status = try sent.bench.service.status(messageID: sent.receipt.messageID)
        #expect(status.recipients.allSatisfy { $0.revokedAt == nil })
        #expect(try sent.bench.deliveredMail().count == mailBefore)
    }
}
