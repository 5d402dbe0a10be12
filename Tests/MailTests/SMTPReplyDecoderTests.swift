import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import Mail

@Suite("SMTP reply decoder")
struct SMTPReplyDecoderTests {
    private static let conversation =
        ("220 mail.example.org ESMTP ready\r\n"
            + "250-mail.example.org greets you\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
            + "354 End data with <CR><LF>.<CR><LF>\r\n"
            + "550 5.1.1 <bob@example.org>: no such user\r\n"
            + "250\r\n"
            + "421-4.3.2 going down\n421 4.3.2 bye\n")
    private static let expected = [
        SMTPReply(code: 220, lines: ["mail.example.org ESMTP ready"]),
        SMTPReply(code: 250, lines: ["mail.example.org greets you", "PIPELINING", "SIZE 10240000", "8BITMIME"]),
        SMTPReply(code: 354, lines: ["End data with <CR><LF>.<CR><LF>"]),
        SMTPReply(code: 550, lines: ["5.1.1 <bob@example.org>: no such user"]),
        SMTPReply(code: 250, lines: [""]),
        SMTPReply(code: 421, lines: ["4.3.2 going down", "4.3.2 bye"]),
    ]

    private func decodeAll(_ chunks: [String]) throws -> [SMTPReply] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(SMTPReplyDecoder()))
        defer { _ = try? channel.finish() }
        for chunk in chunks {
            try channel.writeInbound(channel.allocator.buffer(string: chunk))
        }
        var replies: [SMTPReply] = []
        while let reply = try channel.readInbound(as: SMTPReply.self) { replies.append(reply) }
        return replies
    }

    @Test("single- and multi-line replies decode byte by byte, all at once and message by message")
    func verifier() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("220 mail.example.org ESMTP ready\r\n", [Self.expected[0]]),
                (
                    "250-mail.example.org greets you\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n",
                    [Self.expected[1]]
                ),
                ("354 End data with <CR><LF>.<CR><LF>\r\n", [Self.expected[2]]),
                ("550 5.1.1 <bob@example.org>: no such user\r\n", [Self.expected[3]]),
                ("250\r\n", [Self.expected[4]]),
                ("421-4.3.2 going down\n421 4.3.2 bye\n", [Self.expected[5]]),
            ],
            decoderFactory: { SMTPReplyDecoder() })
    }

    @Test("a conversation split at every byte offset decodes to the same replies")
    func everySplit() throws {
        let bytes = Array(Self.conversation.utf8)
        for offset in 0...bytes.count {
            let first = String(decoding: bytes[..<offset], as: UTF8.self)
            let second = String(decoding: bytes[offset...], as: UTF8.self)
            #expect(try self.decodeAll([first, second]) == Self.expected, "split at \(offset)")
        }
    }

    @Test("a line longer than 2,048 bytes is an error, with or without its line ending")
    func oversizedLine() throws {
        for ending in ["", "\r\n"] {
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(SMTPReplyDecoder()))
            let line = "250 " + String(repeating: "x", count: 2100) + ending
            #expect(throws: SMTPReplyDecoder.DecodingError.self) {
                try channel.writeInbound(channel.allocator.buffer(string: line))
            }
            _ = try? channel.finish()
        }
        // A line of exactly 2,048 bytes, CRLF included, is still fine.
        let longest = "250 " + String(repeating: "y", count: 2048 - 6) + "\r\n"
        #expect(try self.decodeAll([longest]).first?.lines.first?.utf8.count == 2048 - 6)
    }

    @Test("a slow stream of bytes without a line ending stops at the bound instead of buffering on")
    func unboundedDrip() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(SMTPReplyDecoder()))
        defer { _ = try? channel.finish() }
        #expect(throws: SMTPReplyDecoder.DecodingError.self) {
            for _ in 0..<100 {
                try channel.writeInbound(channel.allocator.buffer(string: String(repeating: "2", count: 100)))
            }
        }
    }

    @Test("a reply with more than 128 lines is an error")
    func tooManyLines() throws {
        let reply = String(repeating: "250-more\r\n", count: 200) + "250 end\r\n"
        #expect(throws: SMTPReplyDecoder.DecodingError.self) { try self.decodeAll([reply]) }
    }

    @Test(
        "malformed reply lines are errors",
        arguments: [
            "hello\r\n", "25\r\n", "2x0 ok\r\n", "250_ok\r\n", "199 too low\r\n", "600 too high\r\n",
            "250-first\r\n251 second\r\n", "\r\n",
        ])
    func malformed(line: String) throws {
        #expect(throws: SMTPReplyDecoder.DecodingError.self) { try self.decodeAll([line]) }
    }

    @Test("the connection closing in the middle of a reply is an error")
    func truncated() throws {
        for partial in ["250-first line\r\n", "250 no line end"] {
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(SMTPReplyDecoder()))
            try channel.writeInbound(channel.allocator.buffer(string: partial))
            #expect(throws: SMTPReplyDecoder.DecodingError.self) { _ = try channel.finish() }
        }
    }

    @Test("plaintext left in the decoder when TLS takes over is an error, not a reply (STARTTLS injection)")
    func leftoverBeforeTLS() throws {
        let decoder = ByteToMessageHandler(SMTPReplyDecoder())
        let channel = EmbeddedChannel(handler: decoder)
        try channel.writeInbound(channel.allocator.buffer(string: "220 2.0.0 go ahead\r\n250-injected"))
        #expect(try channel.readInbound(as: SMTPReply.self) == SMTPReply(code: 220, lines: ["2.0.0 go ahead"]))
        let removed = channel.pipeline.syncOperations.removeHandler(decoder)
        channel.embeddedEventLoop.run()
        try removed.wait()
        #expect(throws: SMTPReplyDecoder.DecodingError.self) { try channel.throwIfErrorCaught() }
        #expect(try channel.readInbound(as: SMTPReply.self) == nil)

        // With nothing left over the switch is silent.
        let clean = ByteToMessageHandler(SMTPReplyDecoder())
        let cleanChannel = EmbeddedChannel(handler: clean)
        try cleanChannel.writeInbound(cleanChannel.allocator.buffer(string: "220 2.0.0 go ahead\r\n"))
        let cleanRemoved = cleanChannel.pipeline.syncOperations.removeHandler(clean)
        cleanChannel.embeddedEventLoop.run()
        try cleanRemoved.wait()
        try cleanChannel.throwIfErrorCaught()
    }

    @Test("replies keep the enhanced status code and print on one line")
    func replyText() {
        let reply = SMTPReply(code: 550, lines: ["5.1.1 <bob@example.org>: no", "such\tuser\u{1B}"])
        #expect(reply.enhancedStatusCode == "5.1.1")
        #expect(reply.description == "550 5.1.1 <bob@example.org>: no such user ")
        #expect(reply.isPermanentFailure && !reply.isTemporaryFailure)
        #expect(SMTPReply(code: 250, lines: ["OK"]).enhancedStatusCode == nil)
        #expect(SMTPReply(code: 451, lines: ["4.3.0 try later"]).isTemporaryFailure)
    }
}
