import Foundation

/// How far the outbox is behind: what the `retract_outbox_depth` and
/// `retract_outbox_oldest_due_age_seconds` gauges show an operator.
///
/// A growing depth or an old due mail means the relay refuses or cannot be reached; both
/// are read in one indexed query (`outbox_due`) at scrape time, never per mail.
public struct OutboxBacklog: Sendable, Equatable {
    /// Mails still to go out: queued, retrying or being sent.
    public var depth: Int
    /// When the longest-waiting due mail became due; nil when nothing is due.
    public var oldestDue: Date?

    /// A backlog.
    public init(depth: Int, oldestDue: Date?) {
        self.depth = depth
        self.oldestDue = oldestDue
    }
}
