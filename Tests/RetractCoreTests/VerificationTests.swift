import Foundation
import GRDB
import Mail
import RetractTestSupport
import Seal
import Sodium
import Testing

@testable import RetractCore
@testable import Vault

/// Reads the verification mails a bench delivered, one request at a time.
struct CodeMailbox {
    let bench: TestBench
    static let subject = "Your verification code for a secure message"

    func fileNames() -> Set<String> {
        let names = try? FileManager.default.contentsOfDirectory(atPath: bench.configuration.outboxDirectory.path)
        return Set((names ?? []).filter { $0.hasSuffix(".eml") })
    }

    /// Asks for a code with the link, delivers the outbox and returns the mail that arrived.
    func request(_ link: Link, client: String? = nil) async throws -> (mail: ParsedMail, code: String) {
        let before = fileNames()
        let sent = try await bench.service.requestVerificationCode(
            token: link.token, linkKey: link.linkKey, client: client)
        #expect(sent != nil)
        _ = await bench.service.deliverDueMail()
        let new = fileNames().subtracting(before)
        try #require(new.count == 1)
        let url = bench.configuration.outboxDirectory.appendingPathComponent(new.first!)
        let mail = try ParsedMail(parsing: [UInt8](Data(contentsOf: url)))
        return (mail, try #require(Self.code(in: mail)))
    }

    /// The six digits standing alone on their line in the text part.
    static func code(in mail: ParsedMail) -> String? {
        mail.textBody?.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.count == 6 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }
}

@Suite("Recipient verification: a message sent with verify opens only with the mailed code")
struct VerificationTests {
    func sendVerified(_ bench: TestBench, attachments: [URL] = [], locale: String = "en") async throws -> Link {
        let receipt = try await bench.service.send(
            Draft(
                from: "Alice <alice@corp.test>", to: ["bob@partner.test"], cc: ["carol@partner.test"],
                subject: "Salaries", body: "The numbers.", attachments: attachments, locale: locale, verify: true))
        return try Link.parse(receipt.recipients[0].link)
    }

    @Test("a corrected version of a verified message asks for the mailed code too")
    func replacementKeepsVerification() async throws {
        let bench = try TestBench()
        let link = try await sendVerified(bench)
        let messageID = try #require(try bench.service.list().first?.id)
        let report = try await bench.service.revoke(
            RevokeRequest(messageID: messageID, reason: "wrong figures", replacement: .init(body: "Corrected numbers.")))
        _ = try #require(report.replacementId)
        let notice = try #require(
            try bench.deliveredMail().first { $0.header("Subject")?.hasPrefix("Correction:") == true && $0.links.first != nil })
        let corrected = try Link.parse(try #require(notice.links.first))
        #expect(corrected.token != link.token)
        let refusal = await failure { _ = try await bench.service.open(token: corrected.token, linkKey: corrected.linkKey) }
        guard case .codeRequired = refusal else {
            Issue.record("expected code_required, got \(String(describing: refusal))")
            return
        }
        let (_, code) = try await CodeMailbox(bench: bench).request(corrected)
        let opened = try await bench.service.open(token: corrected.token, linkKey: corrected.linkKey, code: code)
        #expect(opened.envelope.bodyText == "Corrected numbers.")
    }

    func failure(_ body: () async throws -> Void) async -> OpenFailure? {
        do {
            try await body()
            return nil
        } catch {
            return error as? OpenFailure
        }
    }

    @Test("send stores verify on the message, and the right key alone then asks for a code naming the masked recipient")
    func keyAloneAsksForCode() async throws {
        let bench = try TestBench()
        let link = try await sendVerified(bench)
        let lookup = try #require(try await bench.service.vault.grant(tokenHash: link.token.hash.bytes))
        #expect(lookup.message.verify)
        let refused = await failure { _ = try await bench.service.open(token: link.token, linkKey: link.linkKey) }
        #expect(refused == .codeRequired(maskedRecipient: "b***@partner.test"))
        #expect(try bench.service.status(messageID: lookup.message.id).recipients[0].views == 0)
    }

    @Test("a message sent without verify opens with the key alone and mails no code")
    func unverifiedOpensWithoutCode() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "Hi", body: "plain"))
        let link = try Link.parse(receipt.recipients[0].link)
        #expect(try await bench.service.open(token: link.token, linkKey: link.linkKey).envelope.bodyText == "plain")
        #expect(try await bench.service.requestVerificationCode(token: link.token, linkKey: link.linkKey) == nil)
        #expect(await bench.service.verificationPrompt(token: link.token) == nil)
    }

    @Test(
        "the code goes only to the grant's recipient, from the service, with the code in the body and not the subject")
    func codeMailGoesToTheRecipient() async throws {
        let bench = try TestBench()
        let link = try await sendVerified(bench)
        let (mail, code) = try await CodeMailbox(bench: bench).request(link)
        #expect(try mail.addresses("To").map(\.address) == ["bob@partner.test"])
        #expect(try mail.addresses("From").map(\.address) == ["retract@retract.test"])
        #expect(mail.header("Subject") == CodeMailbox.subject)
        #expect(mail.header("Subject")?.contains(code) == false)
        #expect(mail.htmlBody?.contains(code) == true)
        #expect(mail.header("Auto-Submitted") == "auto-generated")
    }

    @Test("a Chinese message gets its code mail in Chinese")
    func chineseCodeMail() async throws {
        let bench = try TestBench()
        let link = try await sendVerified(bench, locale: "zh-Hans")
        let (mail, _) = try await CodeMailbox(bench: bench).request(link)
        #expect(mail.header("Subject") == "您的加密邮件验证码")
        #expect(mail.header("Content-Language") == "zh-Hans")
    }

    @Test("the key plus the mailed code opens the message and counts one view")
    func keyAndCodeOpen() async throws {
        let bench = try TestBench()
        let link = try await sendVerified(bench)
        let (_, code) = try await CodeMailbox(bench: bench).request(link)
        let opened = try await bench.service.open(token: link.token, linkKey: link.linkKey, code: code)
        #expect(opened.envelope.bodyText == "The numbers.")
        let lookup = try #require(try await bench.service.vault.grant(tokenHash: link.token.hash.bytes))
        #expect(lookup.grant.views == 1)
    }

    @Test("the vault stores only a keyed hash of the code, keyed by the token it never stores")
    func codeStoredHashed() async throws {
        let bench = try TestBench()
        let link = try await sendVerified(bench)
        let (_, code) = try await CodeMailbox(bench: bench).request(link)
        let lookup = try #require(try await bench.service.vault.grant(tokenHash: link.token.hash.bytes))
        let state = try #require(try await bench.service.vault.verificationState(grantID: lookup.grant.id!))
        let stored = [UInt8](try #require(state.codeHash))
        #expect(stored == RetractService.verificationCodeHash(code, token: link.token))
        let unkeyed = GenericHashOfCode.unkeyed(code)
        #expect(stored != unkeyed)
        let underOtherToken = RetractService.verificationCodeHash(code, token: GrantToken.random())
        #expect(stored != underOtherToken)
        #expect(stored.count == 32)
    }

    @Test(
        "the queued code mail is sealed (no digits in the clear), addressed to the recipient, and erased once delivered"
    )
    func queuedCodeIsSealed() async throws {
        let bench = try TestBench()
        let link = try await sendVerified(bench)
        _ = try await bench.service.requestVerificationCode(token: link.token, linkKey: link.linkKey)
        let lookup = try #require(try await bench.service.vault.grant(tokenHash: link.token.hash.bytes))
        let queued = try bench.service.vault.outboxMail(messageID: lookup.message.id).filter {
            $0.kind == .verification
        }
        try #require(queued.count == 1)
        #expect(queued[0].recipient == "bob@partner.test")
        let sealed = [UInt8](try #require(queued[0].sealedData))
        let plainMarker = sealed.contains(bytes: Array(CodeMailbox.subject.utf8))
        #expect(!plainMarker)
        _ = await bench.service.deliverDueMail()
        let delivered = try bench.service.vault.outboxMail(messageID: lookup.message.id).filter {
            $0.kind == .verification
        }
        #expect(delivered.first?.sealedData == nil)
        let mail = try #require(try bench.deliveredMail().first { $0.header("Subject") == CodeMailbox.subject })
        let code = try #require(CodeMailbox.code(in: mail))
        let codeInVault = try bench.vaultFileBytes().contains(bytes: Array("\n    \(code)".utf8))
        #expect(!codeInVault)
    }

    @Test("a wrong code is invalid_code with the attempts left, and counts no view")
    func wrongCode() async throws {
        let bench = try TestBench()
        let link = try await sendVerified(bench)
        let (_, code) = try await CodeMailbox(bench: bench).request(link)
        let wrong = code == "000000" ? "000001" : "000000"
        let refused = await failure {
            _ = try await bench.service.open(token: link.token, linkKey: link.linkKey, code: wrong)
        }
        #expect(refused == .invalidCode(remaining: 4))
        #expect(refused?.code == "invalid_code")
    }

    @Test("a wrong key on a verified message is invalid_key, never a code answer")
    func wrongKeyBeforeCode() async throws {
        let bench = try TestBench()
        let link = try await sendVerified(bench)
        let refused = await failure {
            _ = try await bench.service.open(token: link.token, linkKey: LinkKey.generate(), code: "123456")
        }
        #expect(refused == .invalidKey)
    }

    @Test("five wrong codes lock the link for 15 minutes, even against the right code, then a new code opens it")
    func fiveWrongCodesLock() async throws {
        let clock = TestClock()
        let bench = try TestBench(clock: clock)
        let link = try await sendVerified(bench)
        let mailbox = CodeMailbox(bench: bench)
        let (_, code) = try await mailbox.request(link)
        let wrong = code == "999999" ? "999998" : "999999"
        var answers: [OpenFailure?] = []
        for _ in 0..<5 {
            answers.append(
                await failure {
                    _ = try await bench.service.open(token: link.token, linkKey: link.linkKey, code: wrong)
                })
        }
        #expect(
            answers == [
                .invalidCode(remaining: 4), .invalidCode(remaining: 3), .invalidCode(remaining: 2),
                .invalidCode(remaining: 1), .tooManyAttempts(retryAfter: 900),
            ])
        let withRightCode = await failure {
            _ = try await bench.service.open(token: link.token, linkKey: link.linkKey, code: code)
        }
        #expect(withRightCode == .tooManyAttempts(retryAfter: 900))
        let codeRequest = await failure {
            _ = try await bench.service.requestVerificationCode(token: link.token, linkKey: link.linkKey)
        }
        #expect(codeRequest == .tooManyAttempts(retryAfter: 900))

        clock.advance(15 * 60 + 1)
        let stale = await failure {
            _ = try await bench.service.open(token: link.token, linkKey: link.linkKey, code: code)
        }
        #expect(stale == .invalidCode(remaining: 4))
        let (_, fresh) = try await mailbox.request(link)
        #expect(
            try await bench.service.open(token: link.token, linkKey: link.linkKey, code: fresh).envelope.subject
                == "Salaries")
    }

    @Test("a code stops working after 10 minutes")
    func codeExpires() async throws {
        let clock = TestClock()
        let bench = try TestBench(clock: clock)
        let link = try await sendVerified(bench)
        let (_, code) = try await CodeMailbox(bench: bench).request(link)
        clock.advance(10 * 60 + 1)
        let refused = await failure {
            _ = try await bench.service.open(token: link.token, linkKey: link.linkKey, code: code)
        }
        #expect(refused == .invalidCode(remaining: 4))
    }

    @Test("a new code request replaces the old code")
    func newCodeReplacesOld() async throws {
        let clock = TestClock()
        let bench = try TestBench(clock: clock)
        let link = try await sendVerified(bench)
        let mailbox = CodeMailbox(bench: bench)
        let (_, first) = try await mailbox.request(link)
        clock.advance(1)
        var (_, second) = try await mailbox.request(link)
        while second == first {
            clock.advance(1)
            (_, second) = try await mailbox.request(link)
        }
        let old = await failure {
            _ = try await bench.service.open(token: link.token, linkKey: link.linkKey, code: first)
        }
        #expect(old == .invalidCode(remaining: 4))
        #expect(
            try await bench.service.open(token: link.token, linkKey: link.linkKey, code: second).envelope.subject
                == "Salaries")
    }

    @Test(
        "a code opens once; after that the grant stays verified for 30 minutes, so attachments download without a code")
    func verificationRemembered() async throws {
        let clock = TestClock()
        let bench = try TestBench(clock: clock)
        let file = try bench.makeFile(named: "payroll.csv", size: 5_000)
        let link = try await sendVerified(bench, attachments: [file])
        let (_, code) = try await CodeMailbox(bench: bench).request(link)
        _ = try await bench.service.open(token: link.token, linkKey: link.linkKey, code: code)
        let download = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
        var bytes: [UInt8] = []
        while let chunk = try await download.nextChunk() { bytes += chunk }
        let same = bytes == [UInt8](try Data(contentsOf: file))
        #expect(same)
        #expect(await bench.service.verificationPrompt(token: link.token)?.verified == true)

        clock.advance(30 * 60 + 1)
        let later = await failure { _ = try await bench.service.open(token: link.token, linkKey: link.linkKey) }
        #expect(later == .codeRequired(maskedRecipient: "b***@partner.test"))
        let laterAttachment = await failure {
            _ = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
        }
        #expect(laterAttachment == .codeRequired(maskedRecipient: "b***@partner.test"))
    }

    @Test("each recipient's grant has its own code: Bob's code does not open Carol's link")
    func codesArePerGrant() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(
                from: "alice@corp.test", to: ["bob@partner.test"], cc: ["carol@partner.test"], subject: "S", body: "B",
                verify: true))
        let bob = try Link.parse(receipt.recipients[0].link)
        let carol = try Link.parse(receipt.recipients[1].link)
        let (_, bobCode) = try await CodeMailbox(bench: bench).request(bob)
        let refused = await failure {
            _ = try await bench.service.open(token: carol.token, linkKey: carol.linkKey, code: bobCode)
        }
        #expect(refused == .invalidCode(remaining: 4))
    }

    @Test("at most three code mails per grant per hour; the fourth is too_many_attempts until the hour is over")
    func codeMailsLimited() async throws {
        let clock = TestClock()
        let bench = try TestBench(clock: clock)
        let link = try await sendVerified(bench)
        for _ in 0..<3 {
            _ = try await bench.service.requestVerificationCode(token: link.token, linkKey: link.linkKey)
            clock.advance(60)
        }
        let fourth = await failure {
            _ = try await bench.service.requestVerificationCode(token: link.token, linkKey: link.linkKey)
        }
        #expect(fourth == .tooManyAttempts(retryAfter: 60 * 60 - 3 * 60))
        clock.advance(60 * 60)
        #expect(try await bench.service.requestVerificationCode(token: link.token, linkKey: link.linkKey) != nil)
    }

    @Test("asking for a code needs the whole link: a wrong key mails nothing")
    func codeRequestNeedsKey() async throws {
        let bench = try TestBench()
        let link = try await sendVerified(bench)
        let before = try bench.deliveredMail().count
        let refused = await failure {
            _ = try await bench.service.requestVerificationCode(token: link.token, linkKey: LinkKey.generate())
        }
        #expect(refused == .invalidKey)
        _ = await bench.service.deliverDueMail()
        #expect(try bench.deliveredMail().count == before)
    }

    @Test("a revoked verified link answers revoked to a code request and mails nothing")
    func revokedLinkMailsNoCode() async throws {
        let bench = try TestBench()
        let receipt = try await bench.service.send(
            Draft(from: "alice@corp.test", to: ["bob@partner.test"], subject: "S", body: "B", verify: true))
        let link = try Link.parse(receipt.recipients[0].link)
        _ = try await bench.service.revoke(RevokeRequest(messageID: receipt.messageID, notify: .none))
        let refused = await failure {
            _ = try await bench.service.requestVerificationCode(token: link.token, linkKey: link.linkKey)
        }
        if case .revoked = refused {} else { Issue.record("expected revoked, got \(String(describing: refused))") }
    }

    @Test("the masked address keeps the first character and the domain only")
    func masking() {
        #expect(RetractService.maskedAddress("bob@partner.test") == "b***@partner.test")
        #expect(RetractService.maskedAddress("x@y.test") == "x***@y.test")
        #expect(RetractService.maskedAddress("alexander.hamilton@treasury.test") == "a***@treasury.test")
    }

    @Test("codes are six decimal digits, leading zeros kept")
    func codeShape() {
        for _ in 0..<200 {
            let code = RetractService.makeVerificationCode()
            #expect(RetractService.isWellFormedCode(code))
        }
    }
}

/// The unkeyed BLAKE2b of a code, to show the stored hash is not that.
enum GenericHashOfCode {
    static func unkeyed(_ code: String) -> [UInt8] {
        GenericHash.hash(Array("retract/verify/v1".utf8) + Array(code.utf8))
    }
}
