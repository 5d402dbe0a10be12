import Foundation
import Vault

/// A sender as the API, the web app and the CLI see it: never a token or a password hash.
public struct SenderAccount: Sendable, Equatable, Codable {
    /// The sender's mail address; they own the messages sent from it.
    public var address: String
    /// The display name, if any.
    public var name: String?
    /// When the account was created.
    public var createdAt: Date
    /// Whether a web password is set (without one, only the API token signs in).
    public var hasPassword: Bool

    /// An account.
    public init(address: String, name: String?, createdAt: Date, hasPassword: Bool) {
        self.address = address
        self.name = name
        self.createdAt = createdAt
        self.hasPassword = hasPassword
    }

    /// The public view of a stored account.
    init(_ record: SenderRecord) {
        self.init(
            address: record.address, name: record.name, createdAt: record.createdAt,
            hasPassword: record.passwordHash != nil)
    }
}
