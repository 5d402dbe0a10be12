import NIOCore
import NIOEmbedded
import Testing

@testable import Mail

@Suite("SMTP reply tracker")
struct SMTPReplyTrackerTests {
    private func connectedChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(
            handler: SMTPReplyTracker(
                greetingTimeout: .seconds(30), replyTimeout: .seconds(30), dataEndTimeout: .seconds(120)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        return channel
    }

    private let ok = SMTPReply(code: 250, lines: ["OK"])

    @Test("a silent server times out on the greeting; replies in time keep the session going")
    func greetingTimeout() throws {
        let channel = try self.connectedChannel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        try channel.throwIfErrorCaught()
        try channel.writeInbound(SMTPReply(code: 220, lines: ["ready"]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(300))
        try channel.throwIfErrorCaught()  // nothing is due while idle
        #expect(channel.isActive)

        try channel.writeOutbound(SMTPRequest.ehlo("client"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(31))
        #expect(throws: SMTPReplyTracker.Timeout(awaited: "EHLO", limit: .seconds(30))) {
            try channel.throwIfErrorCaught()
        }
        #expect(!channel.isActive)
    }

    @Test("the reply to the message content may take the longer DATA-end timeout")
    func dataEndTimeout() throws {
        let channel = try self.connectedChannel()
        try channel.writeInbound(SMTPReply(code: 220, lines: ["ready"]))
        try channel.writeOutbound(SMTPRequest.content(Array("x".utf8)))
        channel.embeddedEventLoop.advanceTime(by: .seconds(100))
        try channel.throwIfErrorCaught()
        try channel.writeInbound(self.ok)
        #expect(try channel.readInbound(as: SMTPReply.self) == SMTPReply(code: 220, lines: ["ready"]))
        #expect(try channel.readInbound(as: SMTPReply.self) == self.ok)
        _ = try channel.finish()
    }

    @Test("pipelined requests each get their own timeout, one after the other")
    func pipelined() throws {
        let channel = try self.connectedChannel()
        try channel.writeInbound(SMTPReply(code: 220, lines: ["ready"]))
        try channel.writeOutbound(SMTPRequest.mailFrom("a@example.org", parameters: []))
        try channel.writeOutbound(SMTPRequest.recipient("b@example.org"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(20))
        try channel.writeInbound(self.ok)
        channel.embeddedEventLoop.advanceTime(by: .seconds(20))
        try channel.throwIfErrorCaught()
        channel.embeddedEventLoop.advanceTime(by: .seconds(11))
        #expect(throws: SMTPReplyTracker.Timeout(awaited: "RCPT TO:<b@example.org>", limit: .seconds(30))) {
            try channel.throwIfErrorCaught()
        }
    }

    @Test("a reply nobody asked for is a protocol error that closes the connection")
    func unsolicited() throws {
        let channel = try self.connectedChannel()
        try channel.writeInbound(SMTPReply(code: 220, lines: ["ready"]))
        try channel.writeOutbound(SMTPRequest.startTLS)
        try channel.writeInbound(SMTPReply(code: 220, lines: ["go ahead"]))
        #expect(throws: SMTPReplyTracker.UnsolicitedReply.self) {
            try channel.writeInbound(SMTPReply(code: 250, lines: ["injected"]))
        }
        #expect(!channel.isActive)
    }
}
