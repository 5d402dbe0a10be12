import NIOCore

/// Closes a new connection at once when its IP address already holds
/// `maxConnectionsPerClient` open ones, before anything is read from it; counts it
/// otherwise until it closes. Connections without an IP peer (a Unix socket) are not counted.
final class ClientConnectionCapHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let counts: ClientConnectionCounts
    private var checked = false
    private var counted: String?

    init(counts: ClientConnectionCounts) {
        self.counts = counts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    private func admit(_ context: ChannelHandlerContext) {
        guard !checked else { return }
        checked = true
        guard let address = context.channel.remoteAddress?.ipAddress else { return }
        if counts.admit(address) {
            counted = address
        } else {
            context.close(promise: nil)
        }
    }

    private func release() {
        if let counted { counts.release(counted) }
        counted = nil
    }
}

@available(*, unavailable)
extension ClientConnectionCapHandler: Sendable {}
