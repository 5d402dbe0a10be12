import Foundation
import Testing

@testable import Mail

@Suite("Rendering RFC 5322 mail")
struct MailMessageRenderingTests {
    /// Every `=?UTF-8?B?…?=` word in the headers: at most 75 characters, and whole UTF-8 on its own.
    private func checkEncodedWords(_ bytes: [UInt8]) {
        for line in Fixtures.headerLines(bytes) {
            for word in line.split(separator: " ") where word.hasPrefix("=?") {
                #expect(word.count <= 75, "encoded-word longer than 75: \(word)")
                let payload = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
                let data = Data(base64Encoded: String(payload))
                #expect(data != nil)
                #expect(data.flatMap { String(data: $0, encoding: .utf8) } != nil, "a word splits a character: \(word)")
            }
        }
    }

    @Test("a Chinese subject round-trips exactly through rendering and parsing")
    func chineseSubject() throws {
        let subject = "关于第三季度财务报表的更正：请以附件中的最新版本为准，谢谢！"
        let bytes = try Fixtures.message(subject: subject).rendered()
        let parsed = try Fixtures.parse(bytes)
        #expect(parsed.header("Subject") == subject)
        #expect(Fixtures.headerLines(bytes).contains { $0.hasPrefix("Subject: =?UTF-8?B?") })
        self.checkEncodedWords(bytes)
    }

    @Test(
        "long subjects fold to lines of at most 78 characters and still decode",
        arguments: [
            String(repeating: "Quarterly figures for the northern region ", count: 6)
                .trimmingCharacters(in: .whitespaces),
            String(repeating: "长", count: 200),
            String(repeating: "Mixed 中文 and English, with emoji 👨‍👩‍👧‍👦 ", count: 8),
            String(repeating: "x", count: 200),
            "  leading and trailing spaces and  double  spaces  ",
            "looks like =?UTF-8?B?YQ==?= an encoded word",
            "",
        ])
    func longSubjects(subject: String) throws {
        let bytes = try Fixtures.message(subject: subject).rendered()
        for line in Fixtures.lines(bytes) { #expect(line.utf8.count <= 78, "line too long: \(line)") }
        #expect(try Fixtures.parse(bytes).header("Subject") == subject)
        self.checkEncodedWords(bytes)
    }

    @Test("no line of a full mail exceeds 78 characters, link and Chinese body included")
    func lineLengths() throws {
        var message = try Fixtures.message(html: "<p>" + String(repeating: "很长的一段中文内容。", count: 30) + "</p>")
        message.textBody = "Open:\n\n\(Fixtures.link)\n\n" + String(repeating: "word ", count: 60) + "\n"
        message.cc = [
            try MailAddress(parsing: "Carol Long-Name Person <carol.long-name@department.example.com>"),
            try MailAddress(parsing: "王小明 <wang@example.cn>"),
            try MailAddress(parsing: "\"Doe, J\" <j.doe@example.com>"),
        ]
        let bytes = try message.rendered()
        for line in Fixtures.lines(bytes) { #expect(line.utf8.count <= 78, "line too long: \(line)") }
        let parsed = try Fixtures.parse(bytes)
        #expect(parsed.links == [Fixtures.link])
        #expect(parsed.textBody == message.textBody)
        #expect(parsed.htmlBody == message.htmlBody)
        let cc = parsed.header("Cc") ?? ""
        #expect(cc.contains("王小明 <wang@example.cn>"))
        #expect(cc.contains("\"Doe, J\" <j.doe@example.com>"))
    }

    @Test("an emoji sequence after a long header name is split between scalars, never inside one")
    func emojiAfterLongName() throws {
        var message = try Fixtures.message(subject: "👨‍👩‍👧‍👦 family")
        message.extraHeaders = [("X-Long-Header-Name-For-Testing-Fold", "👨‍👩‍👧‍👦 family 🇨🇳")]
        let bytes = try message.rendered()
        for line in Fixtures.lines(bytes) { #expect(line.utf8.count <= 78, "line too long: \(line)") }
        self.checkEncodedWords(bytes)
        let parsed = try Fixtures.parse(bytes)
        #expect(parsed.header("X-Long-Header-Name-For-Testing-Fold") == "👨‍👩‍👧‍👦 family 🇨🇳")
        #expect(parsed.header("Subject") == "👨‍👩‍👧‍👦 family")
    }

    @Test("headers come in the documented order with CRLF endings")
    func headerOrder() throws {
        var message = try Fixtures.message()
        message.inReplyTo = "<original@localhost>"
        message.references = ["<original@localhost>"]
        message.extraHeaders = [("Auto-Submitted", "auto-generated"), ("X-Retract-Message", "msg_123")]
        let bytes = try message.rendered()
        let names = Fixtures.headerLines(bytes).filter { !$0.hasPrefix(" ") }.map { String($0.prefix { $0 != ":" }) }
        #expect(
            names == [
                "Date", "From", "Reply-To", "To", "Subject", "Message-ID", "In-Reply-To", "References", "MIME-Version",
                "Auto-Submitted", "X-Retract-Message", "Content-Type", "Content-Transfer-Encoding",
            ])
        let parsed = try Fixtures.parse(bytes)
        #expect(parsed.header("date") == "Mon, 3 Mar 2025 14:05:00 +0000")
        #expect(parsed.header("From") == "retract@localhost")
        #expect(parsed.header("Reply-To") == "Alice Example <alice@example.com>")
        #expect(parsed.header("To") == "Bob Jones <bob@example.org>")
        #expect(parsed.header("MIME-Version") == "1.0")
        #expect(parsed.header("x-retract-message") == "msg_123")
        #expect(parsed.header("In-Reply-To") == "<original@localhost>")
    }

    /// Ways to smuggle a line break into a header, with the header the error must name.
    enum Injection: CaseIterable, Sendable, CustomTestStringConvertible {
        case subjectCRLF, subjectLF, subjectNUL, messageID, inReplyTo, references, extraValue, extraName

        var header: String {
            switch self {
            case .subjectCRLF, .subjectLF, .subjectNUL: "Subject"
            case .messageID: "Message-ID"
            case .inReplyTo: "In-Reply-To"
            case .references: "References"
            case .extraValue: "X-Retract-Message"
            case .extraName: "extra header name"
            }
        }

        var testDescription: String { "\(self) in \(self.header)" }

        func apply(to message: inout MailMessage) {
            switch self {
            case .subjectCRLF: message.subject = "Hi\r\nBcc: victim@example.com"
            case .subjectLF: message.subject = "Hi\nthere"
            case .subjectNUL: message.subject = "Hi\0"
            case .messageID: message.messageID = "<a@b>\r\nX-Evil: 1"
            case .inReplyTo: message.inReplyTo = "<a@b>\nX-Evil: 1"
            case .references: message.references = ["<a@b>", "<c@d>\r"]
            case .extraValue: message.extraHeaders = [("X-Retract-Message", "a\r\nb")]
            case .extraName: message.extraHeaders = [("X-A\r\nBcc", "b")]
            }
        }
    }

    @Test("CR, LF or NUL in any header value throws header injection naming the header", arguments: Injection.allCases)
    func headerInjection(injection: Injection) throws {
        var message = try Fixtures.message()
        injection.apply(to: &message)
        #expect(throws: MailError.headerInjection) { try message.rendered() }
        do {
            _ = try message.rendered()
        } catch {
            #expect(error.description.contains("\"\(injection.header)\""), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("a display name with a line break cannot even be constructed")
    func nameInjection() {
        #expect(throws: MailError.invalidAddress) {
            try MailAddress(address: "alice@example.com", displayName: "Alice\r\nBcc: victim@example.com")
        }
    }

    @Test("malformed Message-IDs, reserved or bad extra header names and a missing To are refused")
    func otherHeaderErrors() throws {
        var message = try Fixtures.message()
        message.messageID = "no-angle-brackets@localhost"
        #expect(throws: MailError.invalidHeader) { try message.rendered() }
        message = try Fixtures.message()
        message.extraHeaders = [("Subject", "second subject")]
        #expect(throws: MailError.invalidHeader) { try message.rendered() }
        message.extraHeaders = [("Bad Name", "x")]
        #expect(throws: MailError.invalidHeader) { try message.rendered() }
        message = try Fixtures.message()
        message.to = []
        #expect(throws: MailError.missingRecipient) { try message.rendered() }
    }

    @Test("a text-only mail is a single text/plain quoted-printable part")
    func singlePart() throws {
        let bytes = try Fixtures.message().rendered()
        let parsed = try Fixtures.parse(bytes)
        #expect(parsed.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(parsed.header("Content-Transfer-Encoding") == "quoted-printable")
        #expect(parsed.textBody == "Hello Bob,\n\nSee you.\n")
        #expect(parsed.htmlBody == nil)
    }

    @Test("an HTML body makes multipart/alternative with text first and a boundary found nowhere else")
    func multipart() throws {
        let html = "<p>Hello <b>Bob</b> — ça va? 你好</p>\n"
        let bytes = try Fixtures.message(html: html).rendered()
        let text = String(decoding: bytes, as: UTF8.self)
        let parsed = try Fixtures.parse(bytes)
        let contentType = try #require(parsed.header("Content-Type"))
        #expect(contentType.hasPrefix("multipart/alternative;"))
        let boundary = try #require(contentType.components(separatedBy: "boundary=\"").last?.dropLast())
        #expect(boundary.count >= 20)
        let plainAt = try #require(text.range(of: "Content-Type: text/plain; charset=utf-8"))
        let htmlAt = try #require(text.range(of: "Content-Type: text/html; charset=utf-8"))
        #expect(plainAt.lowerBound < htmlAt.lowerBound)
        #expect(text.components(separatedBy: "--\(boundary)\r\n").count == 3)
        #expect(text.hasSuffix("--\(boundary)--\r\n"))
        #expect(parsed.textBody == "Hello Bob,\n\nSee you.\n")
        #expect(parsed.htmlBody == html)
        let other = try Fixtures.message(html: html).rendered()
        #expect(try Fixtures.parse(other).header("Content-Type") != contentType, "boundaries should be random")
    }

    @Test("non-ASCII and special display names are encoded or quoted and parse back")
    func displayNames() throws {
        let names = ["张三", "Doe, J", "Say \"hi\"", "O'Brien", "Ünïcødé Name", String(repeating: "很长的名字", count: 12)]
        for name in names {
            var message = try Fixtures.message()
            message.from = try MailAddress(address: "retract@localhost", displayName: name)
            let bytes = try message.rendered()
            for line in Fixtures.lines(bytes) { #expect(line.utf8.count <= 78, "line too long: \(line)") }
            self.checkEncodedWords(bytes)
            let from = try #require(try Fixtures.parse(bytes).header("From"))
            let parsed = try MailAddress(parsing: from)
            #expect(parsed.displayName == name)
            #expect(parsed.address == "retract@localhost")
        }
    }

    @Test("QP-encoded bodies keep trailing spaces, dots and equals signs")
    func bodyEdgeCases() throws {
        var message = try Fixtures.message()
        message.textBody = "trailing space \n.\n.dot start\na=b\ttab\t\n\r\nCRLF and bare CR\rend"
        let bytes = try message.rendered()
        let parsed = try Fixtures.parse(bytes)
        #expect(parsed.textBody == "trailing space \n.\n.dot start\na=b\ttab\t\n\nCRLF and bare CR\nend\n")
        for line in Fixtures.lines(bytes) { #expect(!line.hasPrefix(".")) }
    }

    @Test("Message-IDs are unique and well formed")
    func messageIDs() throws {
        let ids = (0..<1000).map { _ in MessageIDFactory.make(domain: "Example.COM") }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(10) {
            #expect(id.count == 1 + 32 + 1 + "example.com".count + 1)
            #expect(id.hasPrefix("<") && id.hasSuffix("@example.com>"))
            #expect(throws: Never.self) { try MailMessage.validateMessageID(id, header: "Message-ID") }
        }
        #expect(MessageIDFactory.make(domain: "").hasSuffix("@localhost>"))
        #expect(MessageIDFactory.make(domain: "evil>\r\n").hasSuffix("@localhost>"))
    }
}
