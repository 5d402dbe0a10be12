import NIOCore
import NIOEmbedded
import Testing

@testable import Mail

@Suite("SMTP request encoder")
struct SMTPRequestEncoderTests {
    private func encode(_ requests: [SMTPRequest]) throws -> String {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(SMTPRequestEncoder()))
        defer { _ = try? channel.finish() }
        for request in requests { try channel.writeOutbound(request) }
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += buffer.readString(length: buffer.readableBytes) ?? ""
        }
        return text
    }

    @Test("commands are written as one line each, ending in CRLF")
    func commands() throws {
        let wire = try self.encode([
            .ehlo("client.example.org"), .mailFrom("a@example.org", parameters: ["SIZE=42", "BODY=8BITMIME"]),
            .mailFrom("", parameters: []), .recipient("b@example.org"), .data, .reset, .quit, .startTLS,
            .authPlain(initialResponse: "AGFsaWNlAHNlY3JldA=="),
        ])
        #expect(
            wire
                == "EHLO client.example.org\r\nMAIL FROM:<a@example.org> SIZE=42 BODY=8BITMIME\r\nMAIL FROM:<>\r\n"
                + "RCPT TO:<b@example.org>\r\nDATA\r\nRSET\r\nQUIT\r\nSTARTTLS\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")
    }

    @Test(
        "message content is dot-stuffed, CRLF-normalised and ended with a lone dot",
        arguments: [
            ("Subject: x\r\n\r\nbody\r\n", "Subject: x\r\n\r\nbody\r\n.\r\n"),
            (".hidden line\r\n", "..hidden line\r\n.\r\n"),
            ("a\r\n..b\r\n", "a\r\n...b\r\n.\r\n"),
            ("before\r\n.\r\nafter\r\n", "before\r\n..\r\nafter\r\n.\r\n"),
            (".", "..\r\n.\r\n"),
            ("unix\nline\n.\nend", "unix\r\nline\r\n..\r\nend\r\n.\r\n"),
            ("old mac\rline\r.dot", "old mac\r\nline\r\n..dot\r\n.\r\n"),
            ("a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"),
            ("no final line ending", "no final line ending\r\n.\r\n"),
            ("mid.dle and end.\r\n", "mid.dle and end.\r\n.\r\n"),
            ("", ".\r\n"),
            ("\r\n.", "\r\n..\r\n.\r\n"),
        ])
    func content(input: String, wire: String) throws {
        #expect(try self.encode([.content(Array(input.utf8))]) == wire)
    }

    @Test("UTF-8 bytes pass through untouched")
    func eightBit() throws {
        let text = "Subject: =?UTF-8?B?5a2j5bqm?=\r\n\r\n季度报告\r\n.开头\r\n"
        #expect(
            try self.encode([.content(Array(text.utf8))])
                == "Subject: =?UTF-8?B?5a2j5bqm?=\r\n\r\n季度报告\r\n..开头\r\n.\r\n")
    }

    @Test("a command argument with CR or LF is refused rather than sent (no command injection)")
    func injection() throws {
        for request in [
            SMTPRequest.recipient("bob@example.org>\r\nRCPT TO:<eve@example.net"),
            .mailFrom("a@example.org\nDATA", parameters: []), .ehlo("host\r\nQUIT"),
        ] {
            #expect(throws: SMTPRequestEncoder.EncodingError.self) { try self.encode([request]) }
        }
    }

    @Test("a request's summary never shows credentials")
    func summaries() {
        #expect(SMTPRequest.authPlain(initialResponse: "AGFsaWNlAHNlY3JldA==").summary == "AUTH PLAIN")
        #expect(!SMTPRequest.authResponse("c2VjcmV0").description.contains("c2VjcmV0"))
        #expect(SMTPRequest.content(Array("secret body".utf8)).summary == "the end of the message data")
    }
}
