import Foundation
import Mail
import RetractCore
import RetractTestSupport
import Seal
import Testing
import Vault

@testable import Gateway
@testable import SMTP

/// A reply to the gateway's receipt revokes, inside the mail client.
@Suite("Revoke by reply to the receipt")
struct RevokeByReplyTests {
    typealias Support = GatewayAcceptorTests

    /// Alice's sealed message to bob and dave (both external), delivered; its id, the
    /// receipt's Reply-To (the recall address) and the receipt's Message-ID.
    static func sealed(_ bench: TestBench) async throws -> (id: String, recallAddress: String, receiptID: String) {
        let message = try Support.received(
            bench, bytes: Support.original(), recipients: ["bob@partner.test", "dave@other.test"])
        let id = try Support.messageID(await GatewayAcceptor(service: bench.service).accept(message))
        _ = await bench.service.deliverDueMail()
        let receipt = try #require(try Support.delivered(bench, messageID: id).first { $0.row.kind == .receipt })
        let parsed = try ParsedMail(parsing: receipt.bytes)
        let replyTo = try #require(try parsed.addresses("Reply-To").first)
        return (id, replyTo.address, try #require(parsed.header("Message-ID")))
    }

    /// A reply as a mail client writes it, in `charset` (the body encoded in it).
    static func reply(
        to address: String, from: String = "Alice Example <alice@corp.test>", body: String, charset: String = "utf-8",
        extraHeaders: [String] = [], attachment: (name: String, bytes: [UInt8])? = nil, html: Bool = false
    ) throws -> [UInt8] {
        var head = [
            "From: \(from)", "To: Retract <\(address)>", "Subject: Re: Sent as secure links: Quarterly numbers",
            "Date: Thu, 03 Dec 2026 12:30:00 +0000", "Message-ID: <reply-\(UUID().uuidString)@corp.test>",
            "MIME-Version: 1.0",
        ] + extraHeaders
        let encodedBody = try #require(body.data(using: charset == "gb18030" ? .init(rawValue: 0x80000632) : .utf8))
        let bodyPart =
            "Content-Type: text/\(html ? "html" : "plain"); charset=\(charset)\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + encodedBody.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn])
                .replacingOccurrences(of: "\r", with: "\r\n") + "\r\n"
        guard let attachment else {
            head.append(bodyPart.components(separatedBy: "\r\n\r\n")[0])
            return Array((head.joined(separator: "\r\n") + "\r\n\r\n" + bodyPart.components(separatedBy: "\r\n\r\n")[1]).utf8)
        }
        head.append("Content-Type: multipart/mixed; boundary=\"r1\"")
        let file =
            "Content-Type: application/pdf; name=\"\(attachment.name)\"\r\nContent-Disposition: attachment; filename=\"\(attachment.name)\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + Data(attachment.bytes).base64EncodedString() + "\r\n"
        return Array((head.joined(separator: "\r\n") + "\r\n\r\n--r1\r\n" + bodyPart + "--r1\r\n" + file + "--r1--\r\n").utf8)
    }

    /// The reply handed to the gateway as the organisation's MTA (trusted) or a stranger would.
    static func send(
        _ bench: TestBench, _ bytes: [UInt8], to address: String, trusted: Bool = true, mailFrom: String = "alice@corp.test"
    ) async throws -> SMTPAcceptance {
        let file = bench.root.appendingPathComponent("reply-\(UUID().uuidString).eml")
        try Data(bytes).write(to: file)
        let message = SMTPReceivedMessage(
            mailFrom: mailFrom, recipients: [address], file: file, size: Int64(bytes.count),
            client: SMTPClientInfo(address: trusted ? "127.0.0.1" : "203.0.113.9", heloName: "mx", trusted: trusted))
        let answer = await GatewayAcceptor(service: bench.service).accept(message)
        _ = await bench.service.deliverDueMail()
        return answer
    }

    static func isAccepted(_ answer: SMTPAcceptance) -> Bool {
        if case .accepted = answer { return true }
        return false
    }

    @Test("the receipt's Reply-To is a recall address of 256 bits, stored only hashed")
    func recallAddressShape() async throws {
        let bench = try Support.bench()
        let (_, address, _) = try await Self.sealed(bench)
        #expect(address.hasPrefix("recall+"))
        #expect(address.hasSuffix("@retract.test"))
        let capability = address.dropFirst("recall+".count).prefix { $0 != "@" }
        #expect(capability.count == 43)
        for name in try FileManager.default.contentsOfDirectory(atPath: bench.configuration.dataDirectory.path)
        where name.hasPrefix("vault.sqlite") {
            let bytes = try Data(contentsOf: bench.configuration.dataDirectory.appendingPathComponent(name))
            #expect(bytes.range(of: Data(capability.utf8)) == nil)
        }
    }

    @Test("REVOKE with a reason revokes every recipient, the notices carry the reason, the sender gets the report threaded under the receipt")
    func reasonOnly() async throws {
        let bench = try Support.bench()
        let (id, address, receiptID) = try await Self.sealed(bench)
        let answer = try await Self.send(
            bench, try Self.reply(to: address, body: "REVOKE\nWrong figures.\n\nOn Thu, Retract wrote:\n> Hello"),
            to: address)
        #expect(Self.isAccepted(answer))
        #expect(try bench.service.vault.grants(messageID: id).allSatisfy { $0.revokedAt != nil })
        let mails = try Support.delivered(bench, messageID: id)
        for outsider in ["bob@partner.test", "dave@other.test"] {
            let notice = try #require(mails.first { $0.row.recipient == outsider && $0.row.kind == .withdrawal })
            #expect(try ParsedMail(parsing: notice.bytes).textBody?.contains("Wrong figures.") == true)
        }
        let report = try #require(mails.first { $0.row.kind == .report && $0.row.recipient == "alice@corp.test" })
        // And the report threads under the receipt
        #expect(try ParsedMail(parsing: report.bytes).header("In-Reply-To") == receiptID)
        #expect(try ParsedMail(parsing: report.bytes).header("References") == receiptID)
    }

    @Test("naming one recipient revokes only that one")
    func namedRecipient() async throws {
        let bench = try Support.bench()
        let (id, address, _) = try await Self.sealed(bench)
        _ = try await Self.send(bench, try Self.reply(to: address, body: "REVOKE bob@partner.test"), to: address)
        let grants = try bench.service.vault.grants(messageID: id)
        #expect(grants.first { $0.recipient == "bob@partner.test" }?.revokedAt != nil)
        #expect(grants.first { $0.recipient == "dave@other.test" }?.revokedAt == nil)
    }

    @Test("a corrected text below --- and a corrected attachment go to the recipients as the replacement")
    func correction() async throws {
        let bench = try Support.bench()
        let (id, address, _) = try await Self.sealed(bench)
        let pdf = Array("%PDF-1.4 corrected".utf8)
        let answer = try await Self.send(
            bench,
            try Self.reply(
                to: address, body: "REVOKE\nOld numbers.\n---\nThe right numbers are attached.",
                attachment: ("q3-v2.pdf", pdf)),
            to: address)
        #expect(Self.isAccepted(answer))
        // Bob's notice carries a new link that opens the corrected version with its attachment
        let notice = try #require(
            try Support.delivered(bench, messageID: id).first { $0.row.recipient == "bob@partner.test" && $0.row.kind == .withdrawal || $0.row.recipient == "bob@partner.test" && $0.row.kind == .correction })
        let link = try Link.parse(try #require(try ParsedMail(parsing: notice.bytes).links.first { $0.contains("/m/") }))
        #expect(try pythonEmailDefects(notice.bytes, in: bench.root) == "[]")
        let opened = try await bench.service.open(token: link.token, linkKey: link.linkKey)
        #expect(opened.envelope.bodyText.contains("The right numbers are attached."))
        #expect(opened.envelope.attachments.map(\.name) == ["q3-v2.pdf"])
        let download = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
        var bytes: [UInt8] = []
        while let chunk = try await download.nextChunk() { bytes += chunk }
        #expect(bytes == pdf)
        // And no file of the reply is left beside it
        #expect(try FileManager.default.contentsOfDirectory(atPath: bench.root.path).filter { $0.hasSuffix(".d") }.isEmpty)
    }

    @Test("a forwarded receipt replied to from another address revokes but sends no correction, and the report tells the sender")
    func forwardedReceipt() async throws {
        let bench = try Support.bench()
        let (id, address, _) = try await Self.sealed(bench)
        let answer = try await Self.send(
            bench,
            try Self.reply(
                to: address, from: "Mallory <mallory@evil.test>", body: "REVOKE\nfake\n---\nPay to account 666."),
            to: address, trusted: false, mailFrom: "mallory@evil.test")
        #expect(Self.isAccepted(answer))
        #expect(try bench.service.vault.grants(messageID: id).allSatisfy { $0.revokedAt != nil })
        // No corrected message exists: only the original is in the vault
        #expect(try bench.service.vault.messages().count == 1)
        let mails = try Support.delivered(bench, messageID: id)
        #expect(!mails.contains { String(decoding: $0.bytes, as: UTF8.self).contains("666") })
        // And the sender's report says the correction was withheld and how to send one
        let report = try #require(mails.first { $0.row.kind == .report && $0.row.recipient == "alice@corp.test" })
        #expect(try ParsedMail(parsing: report.bytes).textBody?.contains("The corrected version in your reply was not sent") == true)
    }

    @Test("automatic mail (an out-of-office, a bounce) and a reply without a command revoke nothing")
    func automaticAndNoCommand() async throws {
        let bench = try Support.bench()
        let (id, address, _) = try await Self.sealed(bench)
        let outOfOffice = try Self.reply(
            to: address, body: "REVOKE\nI am away until Monday.", extraHeaders: ["Auto-Submitted: auto-replied"])
        #expect(Self.isAccepted(try await Self.send(bench, outOfOffice, to: address)))
        let bounce = try Self.reply(to: address, body: "REVOKE")
        #expect(Self.isAccepted(try await Self.send(bench, bounce, to: address, mailFrom: "")))
        let thanks = try Self.reply(to: address, body: "Thanks, all good.")
        #expect(Self.isAccepted(try await Self.send(bench, thanks, to: address)))
        #expect(try bench.service.vault.grants(messageID: id).allSatisfy { $0.revokedAt == nil })
    }

    @Test("an unknown recall address, or one whose sender was removed, gets 550 and nothing happens")
    func unknownAddress() async throws {
        let bench = try Support.bench()
        let (id, address, _) = try await Self.sealed(bench)
        let forged = "recall+" + String(repeating: "B", count: 43) + "@retract.test"
        let answer = try await Self.send(bench, try Self.reply(to: forged, body: "REVOKE"), to: forged)
        #expect(answer == .unknownRecipient("unknown or retired recall address; nothing was revoked"))
        try bench.service.removeSender(address: "alice@corp.test")
        let retired = try await Self.send(bench, try Self.reply(to: address, body: "REVOKE"), to: address)
        #expect(retired == .unknownRecipient("unknown or retired recall address; nothing was revoked"))
        #expect(try bench.service.vault.grants(messageID: id).allSatisfy { $0.revokedAt == nil })
    }

    @Test("an HTML-only reply and a reply in GB18030 (撤回) are read like plain UTF-8 ones")
    func htmlAndCharsets() async throws {
        let bench = try Support.bench()
        let (first, address, _) = try await Self.sealed(bench)
        let html = "<html><body><div>REVOKE</div><div>Sent too early.</div><blockquote>Hello Alice</blockquote></body></html>"
        #expect(Self.isAccepted(try await Self.send(bench, try Self.reply(to: address, body: html, html: true), to: address)))
        #expect(try bench.service.vault.grants(messageID: first).allSatisfy { $0.revokedAt != nil })
        let withdrawal = try #require(try Support.delivered(bench, messageID: first).first { $0.row.kind == .withdrawal })
        #expect(try ParsedMail(parsing: withdrawal.bytes).textBody?.contains("Sent too early.") == true)

        let (second, other, _) = try await Self.sealed(bench)
        let chinese = try Self.reply(to: other, body: "撤回\n附件发错了", charset: "gb18030")
        #expect(Self.isAccepted(try await Self.send(bench, chinese, to: other)))
        #expect(try bench.service.vault.grants(messageID: second).allSatisfy { $0.revokedAt != nil })
        let notice = try #require(try Support.delivered(bench, messageID: second).first { $0.row.kind == .withdrawal })
        #expect(try ParsedMail(parsing: notice.bytes).textBody?.contains("附件发错了") == true)
    }
}
