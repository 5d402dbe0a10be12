/// What one pass of the outbox worker did.
public struct DeliveryRun: Sendable, Equatable {
    /// Mails the transport accepted.
    public var delivered = 0
    /// Mails that failed and will be retried.
    public var deferred = 0
    /// Mails that failed for good.
    public var failed = 0
    /// Notifications dropped because their grant was revoked while they waited.
    public var cancelled = 0

    /// An empty run.
    public init() {}

    /// Adds another run's counts to this one.
    mutating func add(_ other: DeliveryRun) {
        self.delivered += other.delivered
        self.deferred += other.deferred
        self.failed += other.failed
        self.cancelled += other.cancelled
    }
}
