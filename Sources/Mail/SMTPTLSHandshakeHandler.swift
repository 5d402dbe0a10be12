import NIOCore
import NIOTLS

/// Turns the end of a TLS handshake into a future: succeeded on `handshakeCompleted`, failed
/// with the TLS error (an untrusted certificate, a name mismatch) or when the channel closes,
/// and failed with `Timeout` when the handshake takes longer than allowed.
///
/// The client waits on it before writing anything over TLS: a write issued during a failing
/// handshake only reports "I/O on closed channel", and the reason would be lost.
final class SMTPTLSHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// The handshake did not finish within the allowed time.
    struct Timeout: Error, Hashable, CustomStringConvertible {
        let limit: TimeAmount

        var description: String {
            "the TLS handshake did not finish within \(SMTPConfiguration.Timeouts.describe(self.limit))"
        }
    }

    /// The channel closed before the handshake finished, without a TLS error.
    struct ClosedDuringHandshake: Error, Hashable, CustomStringConvertible {
        var description: String { "the server closed the connection during the TLS handshake" }
    }

    private let promise: EventLoopPromise<Void>
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var done = false

    /// The handshake's outcome.
    var handshakeCompleted: EventLoopFuture<Void> { self.promise.futureResult }

    /// Creates a handler whose future belongs to `eventLoop`.
    init(eventLoop: any EventLoop, timeout: TimeAmount) {
        self.promise = eventLoop.makePromise()
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: self.timeout) {
            self.timer = nil
            self.finish(.failure(Timeout(limit: self.timeout)))
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.finish(.failure(ClosedDuringHandshake()))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            self.finish(.success(()))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish(.failure(ClosedDuringHandshake()))
        context.fireChannelInactive()
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !self.done else { return }
        self.done = true
        self.timer?.cancel()
        self.timer = nil
        self.promise.completeWith(result)
    }
}
