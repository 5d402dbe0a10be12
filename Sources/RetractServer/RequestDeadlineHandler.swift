import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request head or body arrives too slowly (`RequestDeadlines`):
/// the slowloris defence. Sits after the HTTP decoder; learns of raw bytes from
/// `RequestBytesSignalHandler` at the front of the pipeline, because an incomplete head
/// decodes to nothing.
///
/// It keeps at most one timer per connection: a check that finds its deadline moved on
/// schedules the next one.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var deadlines: RequestDeadlines
    private var scheduled: (at: NIODeadline, task: Scheduled<Void>)?

    init(limits: HTTPConnectionLimits) {
        deadlines = RequestDeadlines(limits)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: perform(deadlines.headReceived(now: .now()), context: context)
        case .body(let buffer): deadlines.bodyReceived(buffer.readableBytes)
        case .end: deadlines.endReceived()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { deadlines.responseEnded() }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is RequestBytesSignalHandler.BytesArrived else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        perform(deadlines.bytesArrived(now: .now()), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelCheck()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelCheck()
    }

    private func perform(_ action: RequestDeadlines.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .close:
            cancelCheck()
            context.close(promise: nil)
        case .check(let at):
            if let scheduled, scheduled.at <= at { return }
            scheduled?.task.cancel()
            let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: at) {
                self.scheduled = nil
                self.perform(self.deadlines.checkDue(now: .now()), context: context)
            }
            scheduled = (at, task)
        }
    }

    private func cancelCheck() {
        scheduled?.task.cancel()
        scheduled = nil
    }
}

@available(*, unavailable)
extension RequestDeadlineHandler: Sendable {}
