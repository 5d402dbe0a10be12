import Foundation

/// One signed-in browser: a web session of a sender.
///
/// The cookie value is never stored, only its BLAKE2b hash (`idHash`), so reading the
/// database does not hand out sessions.
public struct WebSessionRecord: Codable, Sendable, Equatable {
    /// BLAKE2b-256 of the cookie value.
    public var idHash: Data
    /// The sender's address.
    public var sender: String
    /// When the session began.
    public var createdAt: Date
    /// The last request seen; the idle timeout counts from here.
    public var lastSeenAt: Date
    /// The language the sender chose in the web app, if any.
    public var locale: String?
    /// The one message this session may see and revoke, for a session begun with a manage
    /// link; nil for a session begun with the password (every message of the sender).
    public var messageScope: String?

    /// A session that begins at `at`.
    public init(idHash: Data, sender: String, at: Date, locale: String? = nil, messageScope: String? = nil) {
        self.messageScope = messageScope
        self.idHash = idHash
        self.sender = sender
        self.createdAt = at
        self.lastSeenAt = at
        self.locale = locale
    }

}
