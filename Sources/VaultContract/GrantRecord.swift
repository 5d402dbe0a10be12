import Foundation

/// One recipient's grant: the vault's half of the key material and the grant's history.
///
/// `sealedShare` and `wrappedDek` are both set while the grant is live and both NULL once it
/// is revoked; that pair is what revocation destroys.
public struct GrantRecord: Codable, Sendable, Equatable {
    /// How the recipient was addressed.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case to, cc, bcc
    }

    /// Row id, set on insert.
    public var id: Int64?
    /// The message the grant opens.
    public var messageId: String
    /// BLAKE2b-256 of the link token; the only form of the token the vault keeps.
    public var tokenHash: Data
    /// The recipient's address.
    public var recipient: String
    /// To, Cc or Bcc.
    public var kind: Kind
    /// Id of the master key that seals the share.
    public var shareKid: String?
    /// The vault's share sealed under the master key; NULL once revoked.
    public var sealedShare: Data?
    /// The DEK wrapped under the grant's KEK; NULL once revoked.
    public var wrappedDek: Data?
    /// Successful opens.
    public var views: Int
    /// First successful open.
    public var firstOpenedAt: Date?
    /// Latest successful open.
    public var lastOpenedAt: Date?
    /// When the sender revoked the grant.
    public var revokedAt: Date?
    /// The reason the sender gave, if any.
    public var revokeReason: String?
    /// Message-ID header of the recipient's notification mail, for threading notices.
    public var notificationMessageId: String
    /// The corrected message sent to this recipient when the grant was revoked, if any.
    public var replacementMessageId: String?

    /// Creates a live, never-opened grant.
    public init(
        messageId: String, tokenHash: Data, recipient: String, kind: Kind, shareKid: String,
        sealedShare: Data, wrappedDek: Data, notificationMessageId: String
    ) {
        self.id = nil
        self.messageId = messageId
        self.tokenHash = tokenHash
        self.recipient = recipient
        self.kind = kind
        self.shareKid = shareKid
        self.sealedShare = sealedShare
        self.wrappedDek = wrappedDek
        self.views = 0
        self.firstOpenedAt = nil
        self.lastOpenedAt = nil
        self.revokedAt = nil
        self.revokeReason = nil
        self.notificationMessageId = notificationMessageId
        self.replacementMessageId = nil
    }

    /// Whether the key material is still there.
    public var isLive: Bool { revokedAt == nil && sealedShare != nil && wrappedDek != nil }
}
