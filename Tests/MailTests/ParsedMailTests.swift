import Foundation
import Testing

@testable import Mail

@Suite("Parsing mail")
struct ParsedMailTests {
    @Test("mail from another mailer: Q encoding, Latin-1, LF endings, base64 part in nested multipart")
    func foreignMail() throws {
        let html = Data("<p>Grüße</p>".utf8).base64EncodedString()
        let raw = """
            Subject: =?iso-8859-1?Q?Gr=FC=DFe_aus?= =?UTF-8?Q?_K=C3=B6ln?= and more
            From: =?utf-8?b?5byg?=
             =?utf-8?b?5LiJ?= <zhang@example.cn>
            X-Folded: one
            \ttwo
            Content-Type: multipart/mixed; boundary=outer

            --outer
            Content-Type: multipart/alternative; boundary="inner b"

            --inner b
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            caf=C3=A9 =
            au lait
            https://example.com/m/abc
            --inner b
            Content-Type: text/html; charset=utf-8
            Content-Transfer-Encoding: base64

            \(html)
            --inner b--
            --outer
            Content-Type: text/plain; name="notes.txt"
            Content-Disposition: attachment; filename="notes.txt"

            not the body
            --outer--

            """
        let mail = try ParsedMail(parsing: Array(raw.utf8))
        #expect(mail.header("subject") == "Grüße aus Köln and more")
        #expect(mail.header("From") == "张三 <zhang@example.cn>")
        #expect(mail.header("X-Folded") == "one\ttwo")
        #expect(mail.textBody == "café au lait\nhttps://example.com/m/abc")
        #expect(mail.htmlBody == "<p>Grüße</p>")
        #expect(mail.links == ["https://example.com/m/abc"])
        #expect(mail.headers("Content-Type").count == 1)
        #expect(mail.headerFields.map(\.name) == ["Subject", "From", "X-Folded", "Content-Type"])
    }

    @Test("address headers parse into mailboxes before decoding, so decoded specials cannot confuse them")
    func addresses() throws {
        let tricky = try MailAddress(address: "retract@localhost", displayName: "Eve <eve@evil.example>, 张")
        var message = try Fixtures.message()
        message.from = tricky
        message.cc = [try Fixtures.alice, try MailAddress(parsing: "\"Doe, J\" <j@example.com>"), try Fixtures.service]
        let mail = try ParsedMail(parsing: try message.rendered())
        #expect(try mail.addresses("From") == [tricky])
        #expect(try mail.addresses("cc") == message.cc)
        #expect(try mail.addresses("Bcc").isEmpty)
    }

    @Test("links are only http(s) URLs that stand alone on a line")
    func links() throws {
        let raw =
            "Subject: x\r\n\r\nsee https://a.example/x here\r\n  https://b.example/y  \r\nftp://c.example\r\nHTTP://D.example/z\r\n"
        #expect(try ParsedMail(parsing: Array(raw.utf8)).links == ["https://b.example/y", "HTTP://D.example/z"])
    }

    @Test("repeated headers are all kept in order")
    func repeatedHeaders() throws {
        let raw = "Received: a\r\nReceived: b\r\nSubject: s\r\n\r\nbody"
        let mail = try ParsedMail(parsing: Array(raw.utf8))
        #expect(mail.headers("received") == ["a", "b"])
        #expect(mail.header("Received") == "a")
        #expect(mail.header("Missing") == nil)
        #expect(mail.textBody == "body")
    }

    @Test("malformed input fails with a malformed-mail error")
    func malformed() {
        #expect(throws: MailError.malformedMail) { try ParsedMail(parsing: Array(" folded first\r\n\r\n".utf8)) }
        #expect(throws: MailError.malformedMail) { try ParsedMail(parsing: Array("No colon here\r\n\r\n".utf8)) }
        #expect(throws: MailError.malformedMail) {
            try ParsedMail(parsing: Array("Content-Type: multipart/mixed\r\n\r\nx".utf8))
        }
        var nested = "Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
        for level in 0..<20 { nested += "--b\(level)\r\nContent-Type: multipart/mixed; boundary=b\(level + 1)\r\n\r\n" }
        #expect(throws: MailError.malformedMail) { try ParsedMail(parsing: Array(nested.utf8)) }
    }

    @Test("undecodable encoded-words are left as they are")
    func badEncodedWords() throws {
        let raw = "Subject: =?x-unknown?B?abc?= =?UTF-8?X?abc?= =?UTF-8?B?not base64!?= =?\r\n\r\n"
        #expect(
            try ParsedMail(parsing: Array(raw.utf8)).header("Subject")
                == "=?x-unknown?B?abc?= =?UTF-8?X?abc?= =?UTF-8?B?not base64!?= =?")
    }
}
