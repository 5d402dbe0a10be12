import Foundation

/// The sender's view of one message: who got it, who opened it and when, every attempt.
public struct MessageStatus: Codable, Sendable {
    /// One recipient's state.
    public struct Recipient: Codable, Sendable {
        public var address: String
        public var kind: String
        /// `live`, `revoked` or `expired`.
        public var state: String
        /// Successful opens.
        public var views: Int
        public var firstOpenedAt: Date?
        public var lastOpenedAt: Date?
        public var revokedAt: Date?
        public var revokeReason: String?
        /// Delivery state of the notification: `queued`, `sent`, `failed` or `cancelled`.
        public var delivery: String
        public var deliveredAt: Date?
        /// The last delivery error, if any.
        public var deliveryError: String?
        /// The corrected message sent to this recipient when it was revoked.
        public var replacementId: String?
        /// Delivery attempts of the notification.
        public var deliveryAttempts: Int
        /// Withdrawal and correction notices mailed to this recipient, with their delivery.
        public var notices: [Notice]
    }

    /// A notice mailed about this message, and how its delivery went.
    public struct Notice: Codable, Sendable {
        /// `withdrawal` or `correction`.
        public var kind: String
        /// `queued`, `sending`, `sent`, `retrying`, `failed` or `cancelled`.
        public var delivery: String
        public var deliveredAt: Date?
        public var deliveryError: String?
    }

    /// One entry of the access log.
    public struct Access: Codable, Sendable {
        public var at: Date
        public var recipient: String
        public var result: String
    }

    public var id: String
    public var sender: String
    public var subject: String
    public var locale: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var maxViews: Int?
    /// When held notifications go (or went) out.
    public var deliverAfter: Date
    public var attachments: Int
    /// The message this one corrects.
    public var supersedes: String?
    /// Whether the sealed content still exists (false once nobody can open it).
    public var contentAvailable: Bool
    public var recipients: [Recipient]
    public var accessLog: [Access]
    /// `gateway` for mail the SMTP gateway received; absent otherwise.
    public var origin: String?
}

/// One line of `retract list`.
public struct MessageSummary: Codable, Sendable {
    public var id: String
    public var sender: String
    public var subject: String
    public var createdAt: Date
    public var recipients: Int
    /// Recipients who opened it at least once.
    public var opened: Int
    public var revoked: Int
    /// `gateway` for mail the SMTP gateway received; absent otherwise.
    public var origin: String?
}
