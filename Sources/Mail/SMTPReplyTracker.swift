import NIOCore

/// Keeps count of the replies the server owes and enforces the time it may take for each.
///
/// Every SMTP request is answered by exactly one reply, and the server speaks first (the
/// greeting), so the handler knows at any moment how many replies are due. A reply that
/// nobody asked for is a protocol error: that is how plaintext replies slipped in after a
/// STARTTLS 220 are caught. While a reply is due a timer runs (the greeting timeout for the
/// greeting, the DATA-end timeout for the reply to the message content, the reply timeout
/// otherwise); when it fires the handler reports `Timeout` down the pipeline, which ends the
/// async inbound stream with that error, and closes the channel.
final class SMTPReplyTracker: ChannelDuplexHandler {
    typealias InboundIn = SMTPReply
    typealias InboundOut = SMTPReply
    typealias OutboundIn = SMTPRequest
    typealias OutboundOut = SMTPRequest

    /// No reply came within the allowed time.
    struct Timeout: Error, Hashable, CustomStringConvertible {
        /// What the reply was for ("the greeting", "RCPT TO:<bob@example.org>").
        let awaited: String
        /// The time allowed.
        let limit: TimeAmount

        var description: String {
            "no reply to \(self.awaited) within \(SMTPConfiguration.Timeouts.describe(self.limit))"
        }
    }

    /// The server sent a reply while none was due.
    struct UnsolicitedReply: Error, Hashable, CustomStringConvertible {
        let reply: SMTPReply

        var description: String { "the server sent a reply nobody asked for: \(self.reply)" }
    }

    private struct Due {
        let awaited: String
        let limit: TimeAmount
    }

    private let replyTimeout: TimeAmount
    private let dataEndTimeout: TimeAmount
    private var due: CircularBuffer<Due>
    private var timer: Scheduled<Void>?
    private var failed = false

    /// Creates a tracker that expects the greeting first.
    init(greetingTimeout: TimeAmount, replyTimeout: TimeAmount, dataEndTimeout: TimeAmount) {
        self.replyTimeout = replyTimeout
        self.dataEndTimeout = dataEndTimeout
        self.due = [Due(awaited: "the greeting", limit: greetingTimeout)]
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.restartTimer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.restartTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.failed else { return }
        guard self.due.popFirst() != nil else {
            self.fail(UnsolicitedReply(reply: Self.unwrapInboundIn(data)), context: context)
            return
        }
        self.restartTimer(context: context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = Self.unwrapOutboundIn(data)
        guard request.expectsReply else {
            context.write(data, promise: promise)
            return
        }
        let wasIdle = self.due.isEmpty
        self.due.append(
            Due(awaited: request.summary, limit: request.isMessageContent ? self.dataEndTimeout : self.replyTimeout))
        if wasIdle { self.restartTimer(context: context) }
        context.write(data, promise: promise)
    }

    /// Starts the timer for the oldest due reply, or stops it when none is due.
    private func restartTimer(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        guard let next = self.due.first, !self.failed else { return }
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: next.limit) {
            self.timer = nil
            self.fail(Timeout(awaited: next.awaited, limit: next.limit), context: context)
        }
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        guard !self.failed else { return }
        self.failed = true
        self.timer?.cancel()
        self.timer = nil
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }
}
