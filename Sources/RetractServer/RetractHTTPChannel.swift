import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 channel with Retract's connection limits (`HTTPConnectionLimits`):
/// the per-address cap and the byte signal at the front of each connection's pipeline,
/// the request deadlines after the HTTP decoder, and Hummingbird's own idle timeout. The
/// total cap is the application configuration's `availableConnectionsDelegate`.
struct RetractHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let clients: ClientConnectionCounts

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let clients = self.clients
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ClientConnectionCapHandler(counts: clients))
            try channel.pipeline.syncOperations.addHandler(RequestBytesSignalHandler())
        }.flatMap {
            http1.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 under `limits` (all but the total cap, which is the configuration's).
    static func retract(_ limits: HTTPConnectionLimits) -> HTTPServerBuilder {
        let clients = ClientConnectionCounts(limit: limits.maxConnectionsPerClient)
        return HTTPServerBuilder { responder in
            RetractHTTPChannel(
                http1: HTTP1Channel(
                    responder: responder,
                    configuration: .init(
                        additionalChannelHandlers: [RequestDeadlineHandler(limits: limits)],
                        idleTimeout: TimeAmount(limits.idleTimeout))),
                clients: clients)
        }
    }
}
