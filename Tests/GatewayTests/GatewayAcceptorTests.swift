import Foundation
import Mail
import RetractCore
import RetractTestSupport
import Seal
import Testing
import Vault

@testable import Gateway
@testable import SMTP

@Suite("Gateway acceptance")
struct GatewayAcceptorTests {
    /// An original as a mail client writes it: multipart/alternative, threaded, CR LF.
    static func original(subject: String = "Quarterly numbers") -> [UInt8] {
        let lines = [
            "From: Alice Example <alice@corp.test>",
            "To: Bob <bob@partner.test>",
            "Cc: Carol <carol@corp.test>",
            "Subject: \(subject)",
            "Message-ID: <orig-1@corp.test>",
            "In-Reply-To: <prev@partner.test>",
            "References: <root@partner.test>",
            " <prev@partner.test>",
            "Date: Thu, 03 Dec 2026 12:00:00 +0000",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"b1\"",
            "",
            "--b1",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Hello Bob, the numbers are attached.",
            "--b1",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<p>Hello <b>Bob</b></p>",
            "--b1--",
            "",
        ]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    static func received(_ bench: TestBench, bytes: [UInt8], recipients: [String]) throws -> SMTPReceivedMessage {
        let file = bench.root.appendingPathComponent("incoming-\(UUID().uuidString).eml")
        try Data(bytes).write(to: file)
        return SMTPReceivedMessage(
            mailFrom: "alice@corp.test", recipients: recipients, file: file, size: Int64(bytes.count),
            client: SMTPClientInfo(address: "127.0.0.1", heloName: "mx.corp.test"))
    }

    /// A bench whose vault has the sender alice@corp.test, so corp.test is internal.
    static func bench(_ configure: @escaping (inout RetractConfiguration) -> Void = { _ in }) throws -> TestBench {
        let bench = try TestBench(configure: configure)
        _ = try bench.service.addSender(address: "alice@corp.test", name: "Alice")
        return bench
    }

    /// The delivered `.eml` bytes of every outbox row of a message, with the row.
    static func delivered(_ bench: TestBench, messageID: String) throws -> [(row: OutboxMailRecord, bytes: [UInt8])] {
        try bench.service.vault.outboxMail(messageID: messageID).map { row in
            let url = bench.configuration.outboxDirectory.appendingPathComponent("\(row.id).eml")
            return (row, [UInt8](try Data(contentsOf: url)))
        }
    }

    static func messageID(_ acceptance: SMTPAcceptance) throws -> String {
        guard case .accepted(let text) = acceptance, text.hasPrefix("queued as ") else {
            Issue.record("not accepted: \(acceptance)")
            throw CancellationError()
        }
        return String(text.dropFirst("queued as ".count))
    }

    @Test("externals get links to the sealed original, the internal one gets the original with a Received line")
    func sealsExternalsAndPassesInternal() async throws {
        // Given a message To an external, Cc an internal recipient, and Bcc another external
        let bench = try Self.bench()
        let original = Self.original()
        let message = try Self.received(
            bench, bytes: original, recipients: ["bob@partner.test", "carol@corp.test", "dave@other.test"])
        let acceptor = GatewayAcceptor(service: bench.service)

        // When the gateway accepts it and the worker delivers
        let acceptance = await acceptor.accept(message)
        let id = try Self.messageID(acceptance)
        _ = await bench.service.deliverDueMail()
        let mails = try Self.delivered(bench, messageID: id)

        // Then the internal recipient got the original byte for byte after one Received line
        let passed = try #require(mails.first { $0.row.recipient == "carol@corp.test" })
        #expect(passed.row.kind == .passthrough)
        #expect(passed.row.mailFrom == "alice@corp.test")
        let crlf = try #require(passed.bytes.firstRange(of: [0x0D, 0x0A]))
        #expect(
            String(decoding: passed.bytes[..<crlf.lowerBound], as: UTF8.self).hasPrefix(
                "Received: from mx.corp.test (127.0.0.1) by "))
        #expect(Array(passed.bytes[crlf.upperBound...]) == original)

        // And each external got a notification that threads under the original and opens it
        let grants = try bench.service.vault.grants(messageID: id)
        #expect(Set(grants.map(\.recipient)) == ["bob@partner.test", "dave@other.test"])
        #expect(grants.first { $0.recipient == "dave@other.test" }?.kind == .bcc)
        #expect(grants.first { $0.recipient == "bob@partner.test" }?.kind == .to)
        for external in ["bob@partner.test", "dave@other.test"] {
            let mail = try #require(mails.first { $0.row.recipient == external })
            #expect(mail.row.kind == .notification)
            let parsed = try ParsedMail(parsing: mail.bytes)
            #expect(parsed.header("Subject") == "Quarterly numbers")
            #expect(parsed.header("In-Reply-To") == "<prev@partner.test>")
            #expect(parsed.header("References")?.contains("<root@partner.test>") == true)
            #expect(parsed.header("Reply-To")?.contains("alice@corp.test") == true)
            #expect(parsed.header("From")?.contains("retract@retract.test") == true)
            #expect(parsed.header("From")?.contains("Alice Example") == true)
            #expect(parsed.header("Bcc") == nil)
            let link = try Link.parse(try #require(parsed.links.first))
            let opened = try await bench.service.open(token: link.token, linkKey: link.linkKey)
            #expect(opened.envelope.subject == "Quarterly numbers")
            #expect(opened.envelope.bodyText.contains("Hello Bob, the numbers are attached."))
            #expect(opened.envelope.to.joined().contains("bob@partner.test"))
            #expect(!opened.envelope.to.joined().contains("dave@other.test"))
            #expect(!opened.envelope.cc.joined().contains("dave@other.test"))
            let attachment = try #require(opened.envelope.attachments.first)
            #expect(attachment.name == "original.eml")
            #expect(attachment.mediaType == "message/rfc822")
            let download = try await bench.service.downloadAttachment(
                token: link.token, linkKey: link.linkKey, index: attachment.index)
            var bytes: [UInt8] = []
            while let chunk = try await download.nextChunk() { bytes += chunk }
            #expect(bytes == original)
        }

        // And the sender got a receipt naming who got a link and who got the mail
        let receipt = try #require(mails.first { $0.row.recipient == "alice@corp.test" })
        #expect(receipt.row.kind == .receipt)
        let receiptText = try #require(try ParsedMail(parsing: receipt.bytes).textBody)
        let links = try #require(receiptText.range(of: "personal link"))
        let direct = try #require(receiptText.range(of: "message itself"))
        #expect(receiptText[links.upperBound..<direct.lowerBound].contains("bob@partner.test"))
        #expect(receiptText[links.upperBound..<direct.lowerBound].contains("dave@other.test"))
        #expect(receiptText[direct.upperBound...].contains("carol@corp.test"))
        #expect(try ParsedMail(parsing: receipt.bytes).header("In-Reply-To") == "<orig-1@corp.test>")

        // And the message is filed as coming from the gateway
        #expect(try bench.service.vault.message(id: id)?.origin == "gateway")
        #expect(try bench.service.status(messageID: id).origin == "gateway")
        #expect(try bench.service.list(sender: "alice@corp.test").first?.origin == "gateway")
    }

    @Test("RETRACT_RECEIPTS=off queues no receipt")
    func receiptsOff() async throws {
        // Given receipts switched off
        let bench = try Self.bench { $0.gatewayReceipts = false }
        let message = try Self.received(bench, bytes: Self.original(), recipients: ["bob@partner.test"])

        // When the gateway accepts a sealed message
        let id = try Self.messageID(await GatewayAcceptor(service: bench.service).accept(message))

        // Then only the notification is queued
        #expect(try bench.service.vault.outboxMail(messageID: id).map(\.kind) == [.notification])
    }

    @Test("a tagged subject is sealed under tagged, and the tag is gone from the notification")
    func taggedSubjectIsSealed() async throws {
        // Given RETRACT_SEAL=tagged and a message whose subject carries [secure]
        let bench = try Self.bench { $0.gatewaySealMode = .tagged }
        let message = try Self.received(
            bench, bytes: Self.original(subject: "[secure] Salaries"), recipients: ["bob@partner.test"])

        // When the gateway accepts it and the worker delivers
        let id = try Self.messageID(await GatewayAcceptor(service: bench.service).accept(message))
        _ = await bench.service.deliverDueMail()

        // Then the recipient got a notification whose subject lost the tag
        let mail = try #require(try Self.delivered(bench, messageID: id).first)
        #expect(mail.row.kind == .notification)
        let parsed = try ParsedMail(parsing: mail.bytes)
        #expect(parsed.header("Subject") == "Salaries")
        let link = try Link.parse(try #require(parsed.links.first))
        #expect(try await bench.service.open(token: link.token, linkKey: link.linkKey).envelope.subject == "Salaries")

        // And the sealed original is the sender's bytes with only the tag gone from its Subject
        let download = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
        var bytes: [UInt8] = []
        while let chunk = try await download.nextChunk() { bytes += chunk }
        #expect(bytes == Self.original(subject: "Salaries"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: bench.root.path).filter {
            $0.contains("untagged")
        }
        #expect(leftovers.isEmpty)
    }

    @Test("a Bcc field the client kept leaves neither in the sealed original nor in a pass-through copy")
    func bccFieldIsRemoved() async throws {
        // Given a message submitted with its Bcc field still in the header, folded
        let bench = try Self.bench()
        let head = "From: alice@corp.test\r\nTo: bob@partner.test, carol@corp.test\r\n"
        let tail = "Subject: hi\r\n\r\nbody\r\n"
        let bytes = Array((head + "Bcc: dave@other.test,\r\n erin@corp.test\r\n" + tail).utf8)
        let message = try Self.received(
            bench, bytes: bytes,
            recipients: ["bob@partner.test", "carol@corp.test", "dave@other.test", "erin@corp.test"])

        // When the gateway accepts it and the worker delivers
        let id = try Self.messageID(await GatewayAcceptor(service: bench.service).accept(message))
        _ = await bench.service.deliverDueMail()
        let mails = try Self.delivered(bench, messageID: id)

        // Then the copies and the sealed original are the message without the Bcc field
        let expected = Array((head + tail).utf8)
        for copy in mails.filter({ $0.row.kind == .passthrough }) {
            let crlf = try #require(copy.bytes.firstRange(of: [0x0D, 0x0A]))
            #expect(Array(copy.bytes[crlf.upperBound...]) == expected)
        }
        let notification = try #require(mails.first { $0.row.recipient == "bob@partner.test" })
        let link = try Link.parse(try #require(try ParsedMail(parsing: notification.bytes).links.first))
        let download = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
        var got: [UInt8] = []
        while let chunk = try await download.nextChunk() { got += chunk }
        #expect(got == expected)
        #expect(try bench.service.vault.grants(messageID: id).first { $0.recipient == "dave@other.test" }?.kind == .bcc)
    }

    @Test("an untagged subject under tagged passes through to everybody")
    func untaggedPassesUnderTagged() async throws {
        // Given RETRACT_SEAL=tagged and a message without the tag
        let bench = try Self.bench { $0.gatewaySealMode = .tagged }
        let message = try Self.received(bench, bytes: Self.original(), recipients: ["bob@partner.test"])

        // When the gateway accepts it
        let id = try Self.messageID(await GatewayAcceptor(service: bench.service).accept(message))

        // Then nothing is sealed for anyone and the copy is queued as it came
        #expect(try bench.service.vault.grants(messageID: id).isEmpty)
        #expect(try bench.service.vault.outboxMail(messageID: id).map(\.kind) == [.passthrough])
    }

    @Test("nothing is stored when the received file cannot be read, and the answer is a temporary failure")
    func unreadableFileStoresNothing() async throws {
        // Given a received message whose file is gone
        let bench = try Self.bench()
        var message = try Self.received(bench, bytes: Self.original(), recipients: ["bob@partner.test"])
        try FileManager.default.removeItem(at: message.file)
        message.size = 0

        // When the gateway is handed it, and the core is asked directly
        let acceptance = await GatewayAcceptor(service: bench.service).accept(message)
        let mail = IncomingMail(
            file: message.file, envelopeSender: "alice@corp.test", sender: "alice@corp.test",
            recipients: [.init(address: "bob@partner.test", sealed: true)], subject: "x",
            traceField: "Received: from a (b) by c; d")
        await #expect(throws: RetractError.self) {
            try await bench.service.acceptIncomingMail(mail, headers: IncomingMailHeaders())
        }

        // Then it answers 451-style and the vault holds no message and no mail
        guard case .temporaryFailure = acceptance else {
            Issue.record("expected a temporary failure, got \(acceptance)")
            return
        }
        #expect(try bench.service.vault.messages().isEmpty)
        #expect(try bench.service.vault.pendingMail().isEmpty)
    }

    @Test("a vault that cannot store the parts answers a temporary failure and keeps nothing")
    func storageFailureIsTemporary() async throws {
        // Given a vault whose parts directory has been replaced by a file, and a message too
        // large for a part in its row
        let bench = try Self.bench()
        let parts = bench.service.vault.parts.directory
        try FileManager.default.removeItem(at: parts)
        try Data("not a directory".utf8).write(to: parts)
        let message = try Self.received(
            bench, bytes: GatewayPassThroughCopyTests.largeOriginal(), recipients: ["bob@partner.test", "carol@corp.test"])

        // When the gateway is handed a message
        let acceptance = await GatewayAcceptor(service: bench.service).accept(message)

        // Then the client is told to try again, and no message or mail was stored
        guard case .temporaryFailure = acceptance else {
            Issue.record("expected a temporary failure, got \(acceptance)")
            return
        }
        #expect(try bench.service.vault.messages().isEmpty)
        #expect(try bench.service.vault.pendingMail().isEmpty)
    }

    @Test("a From outside the internal domains is refused for good and nothing is stored")
    func outsideSenderIsRefused() async throws {
        // Given a message from a domain that is not internal
        let bench = try Self.bench()
        let bytes = Array(
            "From: Mallory <mallory@evil.test>\r\nTo: bob@partner.test\r\nSubject: hi\r\n\r\nhello\r\n".utf8)
        let message = try Self.received(bench, bytes: bytes, recipients: ["bob@partner.test"])

        // When the gateway is handed it
        let acceptance = await GatewayAcceptor(service: bench.service).accept(message)

        // Then it is refused permanently and nothing is kept
        guard case .permanentFailure = acceptance else {
            Issue.record("expected a permanent failure, got \(acceptance)")
            return
        }
        #expect(try bench.service.vault.messages().isEmpty)
    }

    @Test("a colleague in an internal domain without an account gets one on first use")
    func createsSenderOnFirstUse() async throws {
        // Given RETRACT_INTERNAL_DOMAINS=corp.test and no account for erin@corp.test
        let bench = try TestBench { $0.gatewayInternalDomains = ["corp.test"] }
        let bytes = Array(
            "From: Erin <erin@corp.test>\r\nTo: bob@partner.test\r\nSubject: hi\r\n\r\nodd body\r\n".utf8)
        let message = try Self.received(bench, bytes: bytes, recipients: ["bob@partner.test"])

        // When the gateway accepts her message
        let id = try Self.messageID(await GatewayAcceptor(service: bench.service).accept(message))

        // Then she has an account without a password, and the message is hers
        let account = try #require(try bench.service.senderAccounts().first { $0.address == "erin@corp.test" })
        #expect(!account.hasPassword)
        #expect(account.name == "Erin")
        #expect(try bench.service.vault.message(id: id)?.sender == "erin@corp.test")
    }

    @Test("odd MIME is sealed as it came, with a placeholder body")
    func oddMIMEIsSealed() async throws {
        // Given a multipart message whose boundary never closes and which has no text part
        let bench = try Self.bench()
        let bytes = Array(
            ("From: alice@corp.test\r\nTo: bob@partner.test\r\nSubject: odd\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n"
                + "--x\r\nContent-Type: application/octet-stream\r\n\r\n\u{1}\u{2}binary").utf8)
        let message = try Self.received(bench, bytes: bytes, recipients: ["bob@partner.test"])

        // When the gateway accepts it
        let receipt = try await GatewayAcceptor(service: bench.service).commit(message)

        // Then the link opens, and the original downloads byte for byte
        let link = try Link.parse(try #require(receipt.sealed.first?.link))
        let opened = try await bench.service.open(token: link.token, linkKey: link.linkKey)
        #expect(opened.envelope.bodyText.contains("original.eml"))
        let download = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
        var got: [UInt8] = []
        while let chunk = try await download.nextChunk() { got += chunk }
        #expect(got == bytes)
    }

    @Test("a large message with a null envelope sender is sealed and passed on byte for byte")
    func largeMessage() async throws {
        // Given a 5 MiB message (a base64 attachment) from the null sender to an external and an internal recipient
        let bench = try Self.bench()
        var generator = SplitMix64(seed: 7)
        let blob = (0..<(3 << 20)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let encoded = Data(blob).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
        let bytes = Array(
            ("From: alice@corp.test\r\nTo: bob@partner.test, carol@corp.test\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"q\"\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
                + "--q\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + encoded + "\r\n--q--\r\n").utf8)
        var message = try Self.received(bench, bytes: bytes, recipients: ["bob@partner.test", "carol@corp.test"])
        message.mailFrom = ""

        // When the gateway accepts it and the worker delivers
        let id = try Self.messageID(await GatewayAcceptor(service: bench.service).accept(message))
        _ = await bench.service.deliverDueMail()
        let mails = try Self.delivered(bench, messageID: id)

        // Then the internal copy keeps the null sender and the bytes, and the link downloads them
        let passed = try #require(mails.first { $0.row.kind == .passthrough })
        #expect(passed.row.mailFrom == "")
        let crlf = try #require(passed.bytes.firstRange(of: [0x0D, 0x0A]))
        #expect(Array(passed.bytes[crlf.upperBound...]) == bytes)
        let notification = try #require(mails.first { $0.row.kind == .notification })
        let link = try Link.parse(try #require(try ParsedMail(parsing: notification.bytes).links.first))
        let download = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 1)
        var got: [UInt8] = []
        while let chunk = try await download.nextChunk() { got += chunk }
        #expect(got == bytes)

        // And the attachment is a part of its own that downloads decoded
        let opened = try await bench.service.open(token: link.token, linkKey: link.linkKey)
        #expect(opened.envelope.attachments.map(\.name) == ["original.eml", "attachment-1"])
        let part = try await bench.service.downloadAttachment(token: link.token, linkKey: link.linkKey, index: 2)
        var decoded: [UInt8] = []
        while let chunk = try await part.nextChunk() { decoded += chunk }
        #expect(decoded == blob)
    }

    @Test("each attachment of the original is also sealed as a part of its own, decoded")
    func attachmentsAreParts() async throws {
        // Given nested multiparts with an inline image, a quoted-printable text file, a
        // forwarded message, and a last part whose boundary never closes
        let bench = try Self.bench()
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 1, 2, 3, 0xFF]
        let lines = [
            "From: alice@corp.test", "To: bob@partner.test", "Subject: files", "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"outer\"", "",
            "--outer", "Content-Type: multipart/related; boundary=\"inner\"", "",
            "--inner", "Content-Type: text/html; charset=utf-8", "", "<img src=\"cid:logo\">",
            "--inner", "Content-Type: image/png", "Content-ID: <logo>", "Content-Transfer-Encoding: base64", "",
            Data(png).base64EncodedString(), "--inner--",
            "--outer", "Content-Type: text/plain; name=\"notes.txt\"", "Content-Transfer-Encoding: quoted-printable",
            "Content-Disposition: attachment; filename*=UTF-8''caf%C3%A9.txt", "", "soft=", "break and =C3=A9",
            "line two",
            "--outer", "Content-Type: message/rfc822", "", "Subject: inner", "", "forwarded body",
            "--outer", "Content-Type: application/pdf; name=\"=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?=\"", "",
            "%PDF-1.4 never closed",
        ]
        let bytes = Array(lines.joined(separator: "\r\n").utf8)
        let receipt = try await GatewayAcceptor(service: bench.service).commit(
            try Self.received(bench, bytes: bytes, recipients: ["bob@partner.test"]))

        // When the recipient opens the message
        let link = try Link.parse(try #require(receipt.sealed.first?.link))
        let opened = try await bench.service.open(token: link.token, linkKey: link.linkKey)

        // Then the original and every attachment are listed, and each downloads decoded
        #expect(
            opened.envelope.attachments.map(\.name) == [
                "original.eml", "attachment-1", "café.txt", "message-3.eml", "résumé.pdf",
            ])
        #expect(
            opened.envelope.attachments.map(\.mediaType) == [
                "message/rfc822", "image/png", "text/plain", "message/rfc822", "application/pdf",
            ])
        func download(_ index: Int) async throws -> [UInt8] {
            let part = try await bench.service.downloadAttachment(
                token: link.token, linkKey: link.linkKey, index: index)
            var got: [UInt8] = []
            while let chunk = try await part.nextChunk() { got += chunk }
            return got
        }
        #expect(try await download(1) == bytes)
        #expect(try await download(2) == png)
        #expect(try await download(3) == Array("softbreak and é\r\nline two".utf8))
        #expect(try await download(4) == Array("Subject: inner\r\n\r\nforwarded body".utf8))
        #expect(try await download(5) == Array("%PDF-1.4 never closed".utf8))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: bench.root.path).filter {
            $0.hasPrefix(".retract-part-")
        }
        #expect(leftovers.isEmpty)
    }

    @Test("AUTH stops after five wrong secrets for an account, even with the right one")
    func authIsLimited() async throws {
        // Given a sender with a token, and five wrong attempts
        let bench = try TestBench()
        let (_, token) = try bench.service.addSender(address: "alice@corp.test", name: nil)
        let acceptor = GatewayAcceptor(service: bench.service)
        for _ in 0..<5 {
            _ = await acceptor.authenticate(username: "alice@corp.test", password: "rt_wrong", client: "10.0.0.1")
        }

        // When the right token is tried inside the window, then after it
        let limited = await acceptor.authenticate(username: "alice@corp.test", password: token, client: "10.0.0.2")
        let outcome = await acceptor.verifyCredentials(username: "alice@corp.test", password: token, client: "10.0.0.2")
        let wrong = await acceptor.verifyCredentials(
            username: "bob@corp.test", password: "rt_wrong", client: "10.0.0.3")
        bench.clock.advance(16 * 60)
        let later = await acceptor.authenticate(username: "alice@corp.test", password: token, client: "10.0.0.2")

        // Then it is refused inside the window (454, not 535) and accepted after it
        #expect(limited == nil)
        #expect(outcome == .temporarilyRefused)
        #expect(wrong == .rejected)
        #expect(later == "alice@corp.test")
    }

    @Test("AUTH accepts the sender's API token and refuses a wrong secret")
    func authenticates() async throws {
        // Given a sender with a token
        let bench = try TestBench()
        let (_, token) = try bench.service.addSender(address: "alice@corp.test", name: nil)
        let acceptor = GatewayAcceptor(service: bench.service)

        // When AUTH is tried with the token and with a wrong password
        let right = await acceptor.authenticate(username: "alice@corp.test", password: token, client: "127.0.0.1")
        let wrong = await acceptor.authenticate(username: "alice@corp.test", password: "not-it", client: "127.0.0.1")
        let otherAccount = await acceptor.authenticate(username: "bob@corp.test", password: token, client: "127.0.0.1")

        // And with the web password once there is one
        try bench.service.setSenderPassword(address: "alice@corp.test", password: "correct horse battery")
        let password = await acceptor.authenticate(
            username: "Alice@corp.test", password: "correct horse battery", client: "127.0.0.1")

        // Then only the token for its own account, and the right password, sign in
        #expect(right == "alice@corp.test")
        #expect(wrong == nil)
        #expect(otherAccount == nil)
        #expect(password == "alice@corp.test")
    }
}
