import Foundation
import Mail
import Seal
import Testing
import RetractTestSupport
import Vault

@testable import RetractCore

@Suite("What send checks and refuses before anything is stored")
struct SendingRulesTests {
    @Test("a missing attachment fails the send and leaves nothing stored or queued")
    func missingAttachmentStoresNothing() async throws {
        let bench = try TestBench()
        await #expect(throws: RetractError.self) {
            try await bench.service.send(
                Draft(
                    from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b",
                    attachments: [bench.root.appendingPathComponent("nope.pdf")]))
        }
        #expect(try bench.service.list().isEmpty)
        #expect(try bench.deliveredMail().isEmpty)
    }

    @Test("an attachment that vanishes halfway rolls the whole message back")
    func unreadableAttachmentRollsBack() async throws {
        let bench = try TestBench()
        let good = try bench.makeFile(named: "good.bin", size: 10)
        let directory = bench.root.appendingPathComponent("a-directory")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        await #expect(throws: RetractError.self) {
            try await bench.service.send(
                Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b", attachments: [good, directory]))
        }
        #expect(try bench.service.list().isEmpty)
    }

    @Test("a line break in the subject is refused before anything is stored")
    func headerInjectionRefused() async throws {
        let bench = try TestBench()
        await #expect(throws: RetractError.self) {
            try await bench.service.send(
                Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "hi\r\nBcc: eve@evil.test", body: "b"))
        }
        #expect(try bench.service.list().isEmpty)
        #expect(try bench.deliveredMail().isEmpty)
    }

    @Test("an invalid address is refused with a message that names it")
    func invalidAddressRefused() async throws {
        let bench = try TestBench()
        do {
            _ = try await bench.service.send(
                Draft(from: "alice@corp.test", to: ["not-an-address"], subject: "s", body: "b"))
            Issue.record("send should have failed")
        } catch let error as RetractError {
            #expect(error.code == .invalidAddress)
            #expect(error.description.contains("not-an-address"))
        }
    }

    @Test("--strict turns warnings into an error that sends nothing")
    func strictRefusesWarnings() async throws {
        let bench = try TestBench()
        do {
            _ = try await bench.service.send(
                Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "Contract", body: "See the attached contract.", strict: true))
            Issue.record("strict send should have failed")
        } catch let error as RetractError {
            #expect(error.code == .blockedByFindings)
        }
        #expect(try bench.service.list().isEmpty)
    }

    @Test("each Bcc recipient gets a notification of their own and no other mail names them")
    func bccIsHidden() async throws {
        let bench = try TestBench()
        _ = try await bench.service.send(
            Draft(
                from: "Alice <alice@corp.test>", to: ["bob@partner.test"], cc: ["carol@partner.test"],
                bcc: ["dave@hidden.test"], subject: "Plan", body: "b"))
        let mails = try bench.deliveredMail()
        #expect(mails.count == 3)
        let toDave = mails.filter { $0.header("To")?.contains("dave@hidden.test") == true }
        #expect(toDave.count == 1)
        for mail in mails where mail.header("To")?.contains("dave@hidden.test") != true {
            let everything = (mail.headers("To") + mail.headers("Cc") + [mail.textBody ?? "", mail.htmlBody ?? ""]).joined()
            #expect(!everything.contains("dave@hidden.test"))
        }
        for mail in mails {
            #expect(mail.header("Reply-To")?.contains("alice@corp.test") == true)
            #expect(mail.header("From")?.contains("retract@retract.test") == true)
            #expect(mail.headers("To").count == 1)
        }
    }

    @Test("the notification puts the personal link alone on a line of its text part")
    func linkAloneOnItsLine() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "季度报告", body: "b", locale: "zh-Hans"))
        let mail = try #require(try bench.deliveredMail().first)
        #expect(mail.header("Subject") == "季度报告")
        let lines = (mail.textBody ?? "").split(whereSeparator: \.isNewline).map(String.init)
        #expect(lines.contains(receipt.recipients[0].link))
    }

    @Test("with a send delay nothing is delivered until it has passed")
    func delayHoldsNotifications() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b", delay: 30))
        #expect(receipt.recipients.allSatisfy { $0.delivery == "queued" })
        #expect(await bench.service.deliverDueMail().delivered == 0)
        #expect(try bench.deliveredMail().isEmpty)
        bench.clock.advance(31)
        #expect(await bench.service.deliverDueMail().delivered == 1)
        #expect(try bench.deliveredMail().count == 1)
        #expect(try bench.service.status(messageID: receipt.messageID).recipients[0].delivery == "sent")
    }

    @Test("a delivered notification's link is erased from the outbox table")
    func deliveredMailIsErased() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "s", body: "b"))
        let rows = try bench.service.vault.outboxMail(messageID: receipt.messageID)
        #expect(rows.allSatisfy { $0.state == .sent && $0.sealedData == nil })
    }

    @Test("the same address twice gets one grant and a warning")
    func duplicatesCollapse() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test", "BOB@partner.test"], subject: "s", body: "b"))
        #expect(receipt.recipients.count == 1)
        #expect(receipt.findings.contains { $0.code == "duplicate_recipient" })
    }
}

@Suite("Pre-send checks")
struct PreSendCheckTests {
    func codes(subject: String = "Hello", body: String = "Body", attachments: Int = 0, to: [String]) -> [String] {
        PreSendCheck.findings(
            sender: "alice@corp.test", subject: subject, body: body, attachmentCount: attachments, recipients: to
        ).map(\.code)
    }

    @Test("mentioning an attachment without one warns, in English and Chinese")
    func forgottenAttachment() {
        #expect(codes(body: "Please find the contract attached.", to: ["a@corp.test"]).contains("missing_attachment"))
        #expect(codes(body: "详见附件。", to: ["a@corp.test"]).contains("missing_attachment"))
        #expect(codes(subject: "Enclosed: invoice", to: ["a@corp.test"]).contains("missing_attachment"))
        #expect(!codes(body: "Please find the contract attached.", attachments: 1, to: ["a@corp.test"]).contains("missing_attachment"))
    }

    @Test("empty subject and empty body warn")
    func emptyFields() {
        #expect(codes(subject: " ", body: "", to: ["a@corp.test"]).contains("empty_subject"))
        #expect(codes(subject: " ", body: "", to: ["a@corp.test"]).contains("empty_body"))
    }

    @Test("a domain one or two edits from a common provider or another recipient warns", arguments: [
        ["x@gmial.com"], ["x@outlok.com"], ["x@qq.con"], ["a@partner.com", "b@partnre.com"],
    ])
    func lookalikeDomains(recipients: [String]) {
        #expect(codes(to: recipients).contains("lookalike_domain"))
    }

    @Test("real providers and unrelated domains do not warn as lookalikes")
    func noFalseLookalikes() {
        #expect(!codes(to: ["x@gmail.com", "y@163.com", "z@126.com", "w@qq.com", "v@corp.test"]).contains("lookalike_domain"))
    }

    @Test("recipients from three unrelated outside organisations warn; two, or one organisation's subdomains, or free-mail providers do not")
    func unrelatedOrganisations() {
        #expect(codes(to: ["a@client-a.example", "b@client-b.example", "c@supplier.example"]).contains("unrelated_domains"))
        #expect(codes(to: ["a@client-a.co.uk", "b@client-b.co.uk", "c@bank.com.cn"]).contains("unrelated_domains"))
        #expect(!codes(to: ["a@client-a.example", "b@client-b.example", "c@corp.test"]).contains("unrelated_domains"))
        #expect(
            !codes(to: ["a@sales.client.example", "b@legal.client.example", "c@client.example", "d@x.co.uk"])
                .contains("unrelated_domains"))
        #expect(!codes(to: ["x@gmail.com", "y@163.com", "z@qq.com", "w@client.example"]).contains("unrelated_domains"))
    }

    @Test("more than five outside recipients in To and Cc warn to use Bcc; the same in Bcc do not")
    func visibleExternals() {
        let six = (1...6).map { "p\($0)@partner.example" }
        let visible = { (to: [String]) in
            PreSendCheck.findings(
                sender: "alice@corp.test", subject: "s", body: "b", attachmentCount: 0, recipients: six,
                visibleRecipients: to
            ).map(\.code)
        }
        #expect(visible(six).contains("visible_externals"))
        #expect(!visible(Array(six.prefix(5))).contains("visible_externals"))
        #expect(!visible([]).contains("visible_externals"), "all six in Bcc")
        #expect(!visible(six.map { $0.replacingOccurrences(of: "partner.example", with: "corp.test") }).contains("visible_externals"))
    }

    @Test("external recipients are listed as a note, not a warning")
    func externalRecipients() {
        let findings = PreSendCheck.findings(
            sender: "alice@corp.test", subject: "s", body: "b", attachmentCount: 0,
            recipients: ["bob@corp.test", "eve@other.test"])
        let external = findings.first { $0.code == "external_recipients" }
        #expect(external?.severity == .note)
        #expect(external?.message.contains("eve@other.test") == true)
        #expect(external?.message.contains("bob@corp.test") == false)
    }
}

@Suite("Durations")
struct DurationTextTests {
    @Test("units s, m, h, d and w parse; anything else is a clear error")
    func parses() throws {
        #expect(try DurationText.seconds("30s", option: "--delay") == 30)
        #expect(try DurationText.seconds("7d", option: "--expires") == 7 * 86_400)
        #expect(try DurationText.seconds("0", option: "--delay") == 0)
        #expect(throws: RetractError.self) { try DurationText.seconds("7 days", option: "--expires") }
        #expect(throws: RetractError.self) { try DurationText.seconds("-1d", option: "--expires") }
    }
}
