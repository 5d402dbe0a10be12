import NIOCore

/// Tells the handlers behind the HTTP decoder that bytes came in, before they are decoded:
/// a request head that trickles in decodes to nothing until it is complete, so only this
/// front-of-pipeline signal lets `RequestDeadlineHandler` start the head deadline at the
/// head's first byte.
final class RequestBytesSignalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The event sent down the pipeline ahead of every read.
    struct BytesArrived {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireUserInboundEventTriggered(BytesArrived())
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension RequestBytesSignalHandler: Sendable {}
