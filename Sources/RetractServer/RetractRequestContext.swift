import Hummingbird
import NIOCore

/// The request context of every Retract route: Hummingbird's basic context plus the
/// connected client's address.
///
/// The address is what the persisted abuse limits count per client (failed opens, failed
/// sign-ins, bad API tokens); without it they would fall back to one shared bucket, which
/// would let anyone lock everybody out. Behind a reverse proxy every request comes from the
/// proxy's address (see docs/threat-model.md).
public struct RetractRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage (logger, allocator, route parameters).
    public var coreContext: CoreRequestContextStorage
    /// The peer of the connection the request arrived on; nil in router tests without a channel.
    public let remoteAddress: SocketAddress?

    /// Takes the client's address from the connection's channel.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
