/// How many live values one master key still seals: what `retract keys list` shows and
/// what decides whether a key may be retired.
///
/// Live means still needed: a grant's share until the grant is revoked, every message's
/// subject, an outbox mail's data until it is sent, cancelled or failed for good.
public struct KeyUsage: Sendable, Equatable {
    /// The key id.
    public let kid: String
    /// Live grants whose share it seals.
    public var shares: Int
    /// Messages whose subject it seals.
    public var subjects: Int
    /// Outbox mails waiting or being sent whose data it seals.
    public var outboxData: Int

    /// A count of zero of everything for `kid`.
    public init(kid: String, shares: Int = 0, subjects: Int = 0, outboxData: Int = 0) {
        self.kid = kid
        self.shares = shares
        self.subjects = subjects
        self.outboxData = outboxData
    }

    /// All live values it seals.
    public var total: Int { shares + subjects + outboxData }
}
