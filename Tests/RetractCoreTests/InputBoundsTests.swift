import Foundation
import GRDB
import Mail
import RetractTestSupport
import Seal
import Testing

@testable import RetractCore
@testable import Vault

@Suite("Input bounds: durations, header fields, counts, and revocations that content cannot block")
struct InputBoundsTests {
    @Test("a duration parses in every unit and within its bounds; past them the error names the option and the limit")
    func durationBounds() throws {
        #expect(try DurationText.seconds("30s", option: "--delay", bounds: .delay) == 30)
        #expect(try DurationText.seconds("3650d", option: "--expires", bounds: .expiry) == 3_650 * 86_400)
        #expect(try DurationText.seconds("30d", option: "--delay", bounds: .delay) == 30 * 86_400)
        #expect(try DurationText.seconds("0", option: "--delay", bounds: .delay) == 0)
        #expect(try DurationText.seconds("3600", option: "expires", bounds: .expiry, bareSeconds: true) == 3600)
        for (text, bounds, phrase) in [
            ("3651d", DurationText.Bounds.expiry, "at most 10 years"), ("31d", .delay, "at most 30 days"),
            ("0", .expiry, "at least 1 minute"), ("15250119728041w", .expiry, "at most 10 years"),
            ("9223372036854775807s", .expiry, "at most 10 years"),
        ] {
            #expect {
                try DurationText.seconds(text, option: "--expires", bounds: bounds)
            } throws: { error in
                (error as? RetractError)?.description.contains(phrase) == true
            }
        }
        #expect(throws: RetractError.self) { try DurationText.seconds("253402300799", option: "--expires", bounds: .expiry) }
        #expect(throws: RetractError.self) { try DurationText.seconds("7 days", option: "--expires", bounds: .expiry) }
        #expect(throws: RetractError.self) { try DurationText.seconds("-1d", option: "--expires", bounds: .expiry) }
        #expect(throws: RetractError.self) {
            try DurationText.seconds(number: 9.223372036854776e18, option: "expires", bounds: .expiry)
        }
    }

    @Test("the core refuses a draft whose expiry or delay is out of bounds, whoever built it")
    func coreChecksDurations() async throws {
        let bench = try TestBench()
        for draft in [
            Draft(from: "a@corp.test", to: ["b@partner.test"], subject: "S", body: "B", expiresIn: 9.2e18),
            Draft(from: "a@corp.test", to: ["b@partner.test"], subject: "S", body: "B", delay: 31 * 86_400),
        ] {
            await #expect(throws: RetractError.self) { _ = try await bench.service.send(draft) }
        }
        #expect(try bench.service.vault.messages().isEmpty)
    }

    @Test("a subject or sender name with CR LF is refused as header injection (checked on scalars, not graphemes)")
    func crlfPair() async throws {
        let bench = try TestBench()
        for draft in [
            Draft(from: "a@corp.test", to: ["b@partner.test"], subject: "Hi\r\nBcc: eve@evil.test", body: "B"),
            Draft(from: "\"A\r\nB\" <a@corp.test>", to: ["b@partner.test"], subject: "S", body: "B"),
        ] {
            await #expect {
                _ = try await bench.service.send(draft)
            } throws: { error in
                [.headerInjection, .invalidAddress].contains((error as? RetractError)?.code)
            }
        }
        #expect(HeaderText.containsLineBreak("a\r\nb"))
        #expect(!HeaderText.containsLineBreak("a b"))
    }

    @Test("more recipients or attachments than configured is refused before anything is stored")
    func counts() async throws {
        let bench = try TestBench()
        var configuration = bench.configuration
        configuration.maxRecipients = 3
        configuration.maxAttachments = 1
        let service = RetractService(
            configuration: configuration, vault: bench.service.vault, keys: bench.service.keys,
            templates: try MailTemplates(), transport: FileOutboxTransport(directory: configuration.outboxDirectory))
        let file = try bench.makeFile(named: "a.txt", size: 10)
        await #expect(throws: RetractError.self) {
            _ = try await service.send(
                Draft(from: "a@corp.test", to: ["b@p.test", "c@p.test"], cc: ["d@p.test"], bcc: ["e@p.test"], subject: "S", body: "B"))
        }
        await #expect(throws: RetractError.self) {
            _ = try await service.send(
                Draft(from: "a@corp.test", to: ["b@p.test"], subject: "S", body: "B", attachments: [file, file]))
        }
        #expect(try service.vault.messages().isEmpty)
    }

    @Test("a file name's bidi override and zero-width characters are removed; letters of any script stay")
    func attachmentNames() {
        #expect(AttachmentName.cleaned("ü中文\u{202E}gnp.exe") == "ü中文gnp.exe")
        #expect(AttachmentName.cleaned("in\u{200B}voice\u{2066}.pdf\u{2069}") == "invoice.pdf")
        #expect(AttachmentName.cleaned("../../etc/passwd") == "passwd")
        #expect(AttachmentName.cleaned("\u{202E}") == "attachment")
        #expect(AttachmentName.cleaned("Отчёт 2026.xlsx") == "Отчёт 2026.xlsx")
    }

    @Test("a correction with a CR LF subject is refused and the message stays live")
    func replacementChecked() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "a@corp.test", to: ["b@partner.test"], subject: "S", body: "B"))
        await #expect {
            _ = try await bench.service.revoke(
                RevokeRequest(
                    messageID: receipt.messageID,
                    replacement: .init(subject: "Fixed\r\nBcc: eve@evil.test", body: "corrected")))
        } throws: { error in
            (error as? RetractError)?.code == .headerInjection
        }
        #expect(try bench.service.status(messageID: receipt.messageID).recipients[0].state == "live")
    }

    @Test(
        "a message whose stored subject holds CR LF (as an old bug stored it) still revokes, with a safe subject in the notices",
        arguments: [RevokeRequest.NoticePolicy.all, .none])
    func revokeWhateverTheSubject(notify: RevokeRequest.NoticePolicy) async throws {
        // Given a delivered message whose sealed subject was replaced by one with a line break
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "a@corp.test", to: ["b@partner.test"], subject: "Fine", body: "B"))
        let master = bench.service.keys.active
        let sealed = GrantCrypto.sealMetadata(
            Array("Evil\r\nBcc: eve@evil.test".utf8), master: master,
            context: RetractService.subjectContext(receipt.messageID))
        try await bench.service.vault.writer.write { db in
            try db.execute(
                sql: "UPDATE messages SET sealed_subject = ? WHERE id = ?", arguments: [Data(sealed), receipt.messageID])
        }
        // When the sender revokes it
        let report = try await bench.service.revoke(RevokeRequest(messageID: receipt.messageID, notify: notify))
        // Then the key material is gone and every notice went out with a one-line subject
        #expect(report.recipients.map(\.outcome) == ["revoked_before_open"])
        #expect(try bench.service.status(messageID: receipt.messageID).recipients[0].state == "revoked")
        for mail in try bench.deliveredMail() {
            #expect(!(mail.header("Bcc") ?? "").contains("eve"))
            #expect(mail.header("Subject").map(HeaderText.containsLineBreak) != true)
        }
    }
}
