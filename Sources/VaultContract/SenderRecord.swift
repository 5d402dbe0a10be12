import Foundation

/// One sender account: who may send through the API and the web app.
///
/// The API token and the web password are kept only as hashes: `tokenHash` is BLAKE2b of
/// the token, `passwordHash` libsodium's Argon2id string. Neither can be turned back into
/// the secret, so a copy of the database signs nobody in.
public struct SenderRecord: Codable, Sendable, Equatable {
    /// The sender's mail address; the messages whose `sender` equals it are theirs.
    public var address: String
    /// The display name, if any.
    public var name: String?
    /// BLAKE2b-256 of the API token.
    public var tokenHash: Data
    /// The Argon2id string of the web password; nil until one is set.
    public var passwordHash: String?
    /// When the account was created.
    public var createdAt: Date
    /// When the current token was issued.
    public var tokenCreatedAt: Date
    /// When the password was last set.
    public var passwordSetAt: Date?

    /// A new account with a token and no password.
    public init(address: String, name: String?, tokenHash: Data, createdAt: Date) {
        self.address = address
        self.name = name
        self.tokenHash = tokenHash
        self.passwordHash = nil
        self.createdAt = createdAt
        self.tokenCreatedAt = createdAt
        self.passwordSetAt = nil
    }

}
