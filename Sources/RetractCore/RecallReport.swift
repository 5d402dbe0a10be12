import Foundation

/// What a revocation achieved, per recipient: did the recall come in time?
public struct RecallReport: Codable, Sendable {
    /// One recipient's line.
    public struct Recipient: Codable, Sendable, Equatable {
        /// The address.
        public var address: String
        /// `to`, `cc` or `bcc`.
        public var kind: String
        /// First successful open, nil if never opened.
        public var openedAt: Date?
        /// `cancelled_before_delivery`, `revoked_before_open` or `revoked_after_open`.
        public var outcome: String
        /// `withdrawal`, `correction` or `none`.
        public var notice: String
        /// When the grant was revoked (by this call or an earlier one).
        public var revokedAt: Date?
        /// True when an earlier call had already revoked it; nothing was sent again.
        public var alreadyRevoked: Bool
        /// Whether a corrected version was sent to this recipient by this call.
        public var replacementSent: Bool
    }

    /// The revoked message.
    public var id: String
    /// When this revocation took effect.
    public var revokedAt: Date
    /// The sender's reason.
    public var reason: String?
    /// The corrected message's id, when one was sent.
    public var replacementId: String?
    /// Per recipient named (or all).
    public var recipients: [Recipient]
    /// Whether the sealed content is gone for good (no live grant left).
    public var contentDestroyed: Bool
}
