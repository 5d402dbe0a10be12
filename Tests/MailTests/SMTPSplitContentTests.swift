import NIOCore
import NIOEmbedded
import Testing

@testable import Mail

/// The content of a gated, pipelined mail goes out in two writes: the dot-stuffed body, and
/// later the final `.` line that lets the server accept it.
@Suite("SMTP content split at the final dot")
struct SMTPSplitContentTests {
    @Test("body and end of content together are byte for byte the whole content")
    func splitEqualsWhole() throws {
        let message = Array("Subject: x\n.hidden line\r\nlast line without ending".utf8)
        func encode(_ requests: [SMTPRequest]) throws -> [UInt8] {
            let channel = EmbeddedChannel(handler: MessageToByteHandler(SMTPRequestEncoder()))
            defer { _ = try? channel.finish() }
            for request in requests { try channel.writeOutbound(request) }
            var bytes: [UInt8] = []
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
            return bytes
        }
        let body = try encode([.contentBody(message)])
        let whole = try encode([.content(message)])
        let split = try encode([.contentBody(message), .endOfContent])
        #expect(String(decoding: body, as: UTF8.self) == "Subject: x\r\n..hidden line\r\nlast line without ending\r\n")
        let same = split == whole
        #expect(same)
    }

    @Test("the body owes no reply; the final dot owes one, with the DATA-end timeout")
    func onlyTheDotIsAnswered() throws {
        let channel = EmbeddedChannel(
            handler: SMTPReplyTracker(
                greetingTimeout: .seconds(30), replyTimeout: .seconds(30), dataEndTimeout: .seconds(120)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        try channel.writeInbound(SMTPReply(code: 220, lines: ["ready"]))

        try channel.writeOutbound(SMTPRequest.contentBody(Array("x".utf8)))
        channel.embeddedEventLoop.advanceTime(by: .seconds(600))
        try channel.throwIfErrorCaught()  // nothing is due while the gate is asked
        #expect(channel.isActive)

        try channel.writeOutbound(SMTPRequest.endOfContent)
        channel.embeddedEventLoop.advanceTime(by: .seconds(100))
        try channel.throwIfErrorCaught()
        channel.embeddedEventLoop.advanceTime(by: .seconds(21))
        #expect(throws: SMTPReplyTracker.Timeout(awaited: "the end of the message data", limit: .seconds(120))) {
            try channel.throwIfErrorCaught()
        }
    }
}
