/// How long an HTTP connection may take and how many may be open at once: the defences
/// against clients that hold connections without using them (idle keep-alive, a request
/// head or body sent a byte at a time) and against one address taking every connection.
///
/// `retract serve` reads them from the environment (docs/operations.md); every value has a
/// default that no browser, `curl` or API client comes near.
public struct HTTPConnectionLimits: Sendable, Equatable {
    /// A connection with no request in progress (before its first request, or after a
    /// response) is closed after this long without a complete request head
    /// (`RETRACT_HTTP_IDLE_TIMEOUT`, default 60 s).
    public var idleTimeout: Duration = .seconds(60)
    /// A request head (request line and headers) must be complete this long after its
    /// first byte arrived, however it trickles in (`RETRACT_HTTP_HEADER_TIMEOUT`, default 10 s).
    public var headerTimeout: Duration = .seconds(10)
    /// A request body must be complete this long after its head, plus one second for every
    /// `minimumBodyRate` bytes received (`RETRACT_HTTP_BODY_TIMEOUT`, default 20 s): a body
    /// slower on average than the rate, after this grace, is cut off. A body that stops
    /// altogether is also cut off after `idleTimeout`.
    public var bodyTimeout: Duration = .seconds(20)
    /// The slowest average body rate accepted, in bytes per second
    /// (`RETRACT_HTTP_MIN_BODY_RATE`, default 1 KiB/s).
    public var minimumBodyRate = 1024
    /// Most connections open at once (`RETRACT_HTTP_MAX_CONNECTIONS`, default 1,000); more
    /// wait in the listen backlog until one closes.
    public var maxConnections = 1_000
    /// Most connections open at once from one IP address
    /// (`RETRACT_HTTP_MAX_CONNECTIONS_PER_CLIENT`, default 64); more are closed at once,
    /// before anything is read from them.
    public var maxConnectionsPerClient = 64

    /// The defaults.
    public init() {}
}
