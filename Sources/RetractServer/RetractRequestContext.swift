import Hummingbird
import NIOCore

/// A request context that carries the one client address every per-client limit counts.
public protocol ClientAddressRequestContext: RequestContext {
    /// The client's IP address as `ClientAddressResolver` decided it (the TCP peer, or the
    /// address a trusted proxy forwarded for); nil when the request came over no IP connection.
    var clientAddress: String? { get set }
}

/// The request context of every Retract route: Hummingbird's basic context plus the
/// connected peer's address and the client address the limits count.
///
/// The client address is what the persisted abuse limits count per client (failed opens,
/// failed sign-ins, bad API tokens); without it they would fall back to one shared bucket,
/// which would let anyone lock everybody out. It starts as the TCP peer's IP address;
/// `ClientAddressMiddleware` replaces it with the forwarded-for address when the peer is a
/// trusted proxy (`RETRACT_TRUSTED_PROXIES`, docs/operations.md).
public struct RetractRequestContext: RequestContext, RemoteAddressRequestContext, ClientAddressRequestContext {
    /// Hummingbird's per-request storage (logger, allocator, route parameters).
    public var coreContext: CoreRequestContextStorage
    /// The peer of the connection the request arrived on (a proxy's, behind one); nil in
    /// router tests without a channel.
    public let remoteAddress: SocketAddress?
    /// The client's IP address; see `ClientAddressRequestContext`.
    public var clientAddress: String?

    /// Takes the peer's address from the connection's channel.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.clientAddress = remoteAddress?.ipAddress
    }
}
