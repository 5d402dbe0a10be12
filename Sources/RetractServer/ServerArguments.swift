/// What the server needs to know to start; the CLI command and the tests both provide it.
public protocol ServerArguments: Sendable {
    /// Address to bind, `127.0.0.1` by default.
    var host: String { get }
    /// Port to bind; 0 picks a free one.
    var port: Int { get }
    /// Timeouts and caps of the HTTP connections; the defaults unless given.
    var connectionLimits: HTTPConnectionLimits { get }
    /// Which peers are trusted proxies whose forwarding header names the client; none unless given.
    var clientAddresses: ClientAddressResolver { get }
}

extension ServerArguments {
    /// The default limits.
    public var connectionLimits: HTTPConnectionLimits { HTTPConnectionLimits() }
    /// No trusted proxy: the TCP peer is the client.
    public var clientAddresses: ClientAddressResolver { ClientAddressResolver() }
}
