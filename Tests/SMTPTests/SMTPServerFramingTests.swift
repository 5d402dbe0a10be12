import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import SMTP

@Suite("SMTP server framing")
struct SMTPServerFramingTests {
    static func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
    static func line(_ text: String) -> SMTPServerInput { .line(Array(text.utf8)) }
    static func content(_ text: String) -> SMTPServerInput { .content(ByteBuffer(string: text)) }

    @Test("command lines end in CRLF or a bare LF, byte by byte and all at once")
    func commandLines() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (Self.bytes("EHLO mx.corp.test\r\n"), [Self.line("EHLO mx.corp.test")]),
                (
                    Self.bytes("MAIL FROM:<a@b>\nRCPT TO:<c@d>\r\n\r\n"),
                    [Self.line("MAIL FROM:<a@b>"), Self.line("RCPT TO:<c@d>"), Self.line("")]
                ),
            ],
            decoderFactory: { SMTPServerFrameDecoder() })
    }

    @Test("a line of 1,000 octets with its CRLF is taken; one more octet is too long, and the next line is read")
    func lineLimit() throws {
        let longest = String(repeating: "x", count: 998)
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (Self.bytes("\(longest)\r\n"), [Self.line(longest)]),
                (Self.bytes("\(longest)y\r\nNOOP\r\n"), [.lineTooLong, Self.line("NOOP")]),
                (Self.bytes(String(repeating: "z", count: 5000) + "\nQUIT\r\n"), [.lineTooLong, Self.line("QUIT")]),
            ],
            decoderFactory: { SMTPServerFrameDecoder() })
    }

    /// The decoder as the framing handler drives it: content mode after `DATA` (standing in
    /// for the 354 reply), so each verifier pass ends where it began, in command mode.
    struct ContentAfterData: ByteToMessageDecoder {
        typealias InboundOut = SMTPServerInput
        var decoder = SMTPServerFrameDecoder()

        mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            guard let frame = self.decoder.next(&buffer) else { return .needMoreData }
            if frame == .line(Array("DATA".utf8)) { self.decoder.mode = .content }
            context.fireChannelRead(Self.wrapInboundOut(frame))
            return .continue
        }
    }

    @Test("content loses its dot-stuffing, keeps its line ends, and ends at CRLF.CRLF")
    func contentCRLF() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (
                    Self.bytes("DATA\r\nSubject: x\r\n\r\n..leading dot\r\n...\r\n.x\r\nlast\r\n.\r\n"),
                    [
                        Self.line("DATA"), Self.content("Subject: x\r\n"), Self.content("\r\n"),
                        Self.content(".leading dot\r\n"),
                        Self.content("..\r\n"), Self.content("x\r\n"), Self.content("last\r\n"), .contentEnd,
                    ]
                )
            ],
            decoderFactory: { ContentAfterData() })
    }

    @Test("content with bare LF line ends ends at LF.LF, and a dot inside a line or after a bare CR stays")
    func contentLF() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (
                    Self.bytes("DATA\na.b\n\r.\r\n.\n"),
                    [Self.line("DATA"), Self.content("a.b\n"), Self.content("\r.\r\n"), .contentEnd]
                ),
                (Self.bytes("DATA\r\nx\n.\r\n"), [Self.line("DATA"), Self.content("x\n"), .contentEnd]),
            ],
            decoderFactory: { ContentAfterData() })
    }

    @Test("after the final dot the decoder reads commands again")
    func backToCommands() {
        var decoder = SMTPServerFrameDecoder(mode: .content)
        var buffer = Self.bytes("body\r\n.\r\nQUIT\r\n")
        #expect(decoder.next(&buffer) == Self.content("body\r\n"))
        #expect(decoder.next(&buffer) == .contentEnd)
        #expect(decoder.mode == .command)
        #expect(decoder.next(&buffer) == Self.line("QUIT"))
        #expect(decoder.next(&buffer) == nil)
    }

    @Test("a content line without a line end is passed on in bounded pieces")
    func longContentLine() {
        var decoder = SMTPServerFrameDecoder(mode: .content, maximumContentChunk: 4)
        var buffer = Self.bytes("abcdefghij\r\n.\r\n")
        #expect(decoder.next(&buffer) == Self.content("abcd"))
        #expect(decoder.next(&buffer) == Self.content("efgh"))
        #expect(decoder.next(&buffer) == Self.content("ij\r\n"))
        #expect(decoder.next(&buffer) == .contentEnd)
    }

    @Test("content cut off by the end of the connection yields no final dot")
    func contentCutOff() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(SMTPServerFrameDecoder(mode: .content)))
        try channel.writeInbound(Self.bytes("Subject: half\r\nand no"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.content("Subject: half\r\n"))
        _ = try? channel.finish()
        #expect(try channel.readInbound(as: SMTPServerInput.self) == nil)
    }

    // MARK: The handler

    /// A channel with the framing handler whose greeting has gone out.
    static func greetedChannel(idleTimeout: TimeAmount = .seconds(300)) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: SMTPServerFramingHandler(idleTimeout: idleTimeout))
        try channel.writeOutbound(SMTPServerReply(220, nil, "gw.test ESMTP"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == Self.bytes("220 gw.test ESMTP\r\n"))
        return channel
    }

    @Test("pipelined commands are passed on one at a time, each after the reply to the one before")
    func pipelinedOneAtATime() throws {
        let channel = try Self.greetedChannel()
        try channel.writeInbound(Self.bytes("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.line("MAIL FROM:<a@b>"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == nil)
        try channel.writeOutbound(SMTPServerReply(250, "2.1.0", "OK"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.line("RCPT TO:<c@d>"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == nil)
        try channel.writeOutbound(SMTPServerReply(250, "2.1.5", "OK"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.line("DATA"))
        _ = try channel.finish()
    }

    @Test("the bytes after DATA are content once 354 is written, and commands again after the dot")
    func contentAfter354() throws {
        let channel = try Self.greetedChannel()
        try channel.writeInbound(Self.bytes("DATA\r\n..hidden\r\n.\r\nQUIT\r\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.line("DATA"))
        try channel.writeOutbound(SMTPServerReply(354, nil, "go ahead"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.content(".hidden\r\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == .contentEnd)
        #expect(try channel.readInbound(as: SMTPServerInput.self) == nil)
        try channel.writeOutbound(SMTPServerReply(250, "2.0.0", "OK"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.line("QUIT"))
        _ = try channel.finish()
    }

    @Test("a refused DATA leaves the following line a command")
    func refusedData() throws {
        let channel = try Self.greetedChannel()
        try channel.writeInbound(Self.bytes("DATA\r\nNOOP\r\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.line("DATA"))
        try channel.writeOutbound(SMTPServerReply(503, "5.5.1", "Need RCPT"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.line("NOOP"))
        _ = try channel.finish()
    }

    @Test("a client that sends nothing for the idle timeout gets an idle event")
    func idleTimeout() throws {
        let channel = try Self.greetedChannel(idleTimeout: .seconds(300))
        channel.embeddedEventLoop.advanceTime(by: .seconds(299))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == nil)
        try channel.writeInbound(Self.bytes("NO"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == .idleTimeout)
        _ = try channel.finish()
    }

    @Test("no idle event while the server itself is working on a reply")
    func noIdleWhileReplying() throws {
        let channel = try Self.greetedChannel(idleTimeout: .seconds(300))
        try channel.writeInbound(Self.bytes("NOOP\r\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.line("NOOP"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1000))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == nil)
        try channel.writeOutbound(SMTPServerReply(250, "2.0.0", "OK"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(300))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == .idleTimeout)
        _ = try channel.finish()
    }

    @Test("a shutdown request waits for the content to end and the reply, then comes before the next command")
    func shutdownBetweenCommands() throws {
        let channel = try Self.greetedChannel()
        try channel.writeInbound(Self.bytes("DATA\r\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.line("DATA"))
        try channel.writeOutbound(SMTPServerReply(354, nil, "go ahead"))
        try channel.writeInbound(Self.bytes("line\r\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.content("line\r\n"))
        channel.pipeline.triggerUserOutboundEvent(SMTPServerShutdownRequest(), promise: nil)
        try channel.writeInbound(Self.bytes(".\r\nNOOP\r\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == .contentEnd)
        #expect(try channel.readInbound(as: SMTPServerInput.self) == nil)
        try channel.writeOutbound(SMTPServerReply(250, "2.0.0", "OK"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == .shutdown)
        #expect(try channel.readInbound(as: SMTPServerInput.self) == nil)
        _ = try channel.finish()
    }

    @Test(
        "without a TLS context a 220 to STARTTLS changes nothing, and a refused STARTTLS leaves the next line a command"
    )
    func startTLSWithoutContext() throws {
        let refused = try Self.greetedChannel()
        try refused.writeInbound(Self.bytes("STARTTLS\r\nRSET\r\n"))
        #expect(try refused.readInbound(as: SMTPServerInput.self) == Self.line("STARTTLS"))
        try refused.writeOutbound(SMTPServerReply(502, "5.5.1", "STARTTLS not available"))
        #expect(try refused.readInbound(as: SMTPServerInput.self) == Self.line("RSET"))
        _ = try refused.finish()
    }

    @Test("content lines that arrive together are passed on as one piece, and the final dot after them")
    func contentCoalesced() throws {
        let channel = try Self.greetedChannel()
        try channel.writeInbound(Self.bytes("DATA\r\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.line("DATA"))
        try channel.writeOutbound(SMTPServerReply(354, nil, "go ahead"))
        try channel.writeInbound(Self.bytes("a\r\n..b\r\nc\n"))
        try channel.writeInbound(Self.bytes("d\r\n.\r\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.content("a\r\n.b\r\nc\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == Self.content("d\r\n"))
        #expect(try channel.readInbound(as: SMTPServerInput.self) == .contentEnd)
        _ = try channel.finish()
    }
}
