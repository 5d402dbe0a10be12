/// A grant to store together with the notification mail that carries its link.
public struct NewGrant: Sendable {
    /// The grant; its id is assigned on insert.
    public var grant: GrantRecord
    /// The recipient's notification; its `grantId` is filled in on insert. Nil when the
    /// link travels in another mail (a replacement's link inside a correction notice).
    public var notification: OutboxMailRecord?

    /// Pairs a grant with its notification.
    public init(grant: GrantRecord, notification: OutboxMailRecord?) {
        self.grant = grant
        self.notification = notification
    }
}
