import Foundation

/// One mail waiting in the outbox, and why it waits.
public struct OutboxEntry: Codable, Sendable {
    /// The outbox id (also the `.eml` name of the file transport).
    public var id: String
    /// `notification`, `withdrawal`, `correction` or `report`.
    public var kind: String
    /// The message it is about.
    public var messageId: String
    /// Where it goes.
    public var recipient: String
    /// `queued`, `sending`, `retrying` or `failed`.
    public var state: String
    /// Delivery attempts so far.
    public var attempts: Int
    /// Not before this instant.
    public var notBefore: Date
    /// The last error, if any.
    public var lastError: String?
    /// The server's last reply, if any.
    public var lastReply: String?
    /// One line: why it is still here.
    public var why: String
}
