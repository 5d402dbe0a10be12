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
        /// The request the reply answers; nil for the greeting. Its summary is made only when
        /// the reply is late, not for every request.
        let request: SMTPRequest?
        let limit: TimeAmount

        var awaited: String { self.request?.summary ?? "the greeting" }
    }

    private let replyTimeout: TimeAmount
    private let dataEndTimeout: TimeAmount
    private var due: CircularBuffer<Due>
    /// When the oldest due reply is late.
    private var deadline: NIODeadline?
    /// The one scheduled check and when it runs. It is not rescheduled for every reply (four
    /// or five per mail); when it runs before the deadline it schedules itself again.
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?
    private var failed = false

    /// Creates a tracker that expects the greeting first.
    init(greetingTimeout: TimeAmount, replyTimeout: TimeAmount, dataEndTimeout: TimeAmount) {
        self.replyTimeout = replyTimeout
        self.dataEndTimeout = dataEndTimeout
        self.due = [Due(request: nil, limit: greetingTimeout)]
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.restartTimer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.stopTimer()
    }

    func channelActive(context: ChannelHandlerContext) {
        self.restartTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.stopTimer()
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
        self.due.append(Due(request: request, limit: request.isMessageContent ? self.dataEndTimeout : self.replyTimeout))
        if wasIdle { self.restartTimer(context: context) }
        context.write(data, promise: promise)
    }

    /// Starts the clock for the oldest due reply, or stops it when none is due.
    private func restartTimer(context: ChannelHandlerContext) {
        guard let next = self.due.first, !self.failed else {
            self.deadline = nil
            return
        }
        let deadline = context.eventLoop.now + next.limit
        self.deadline = deadline
        if let timer = self.timer {
            guard timer.at > deadline else { return }  // it runs in time and looks again then
            timer.task.cancel()
        }
        self.scheduleCheck(at: deadline, context: context)
    }

    private func scheduleCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            self.check(context: context)
        }
        self.timer = (task, deadline)
    }

    /// The scheduled check: fails when the oldest due reply is late, else waits for its deadline.
    private func check(context: ChannelHandlerContext) {
        guard let deadline = self.deadline, let next = self.due.first, !self.failed else { return }
        if context.eventLoop.now >= deadline {
            self.fail(Timeout(awaited: next.awaited, limit: next.limit), context: context)
        } else {
            self.scheduleCheck(at: deadline, context: context)
        }
    }

    private func stopTimer() {
        self.timer?.task.cancel()
        self.timer = nil
        self.deadline = nil
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        guard !self.failed else { return }
        self.failed = true
        self.stopTimer()
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }
}
