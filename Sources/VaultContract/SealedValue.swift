import Foundation

/// One value in the vault sealed under a master key, as key rotation reads it: a grant's
/// sealed share, a message's sealed subject, or an outbox mail's sealed data.
///
/// Rotation opens it with its `kid`'s key and seals it again under the active key
/// (docs/crypto.md, "Key rotation"); no GRDB type crosses, so the PostgreSQL backend can
/// hand out the same values.
public struct SealedValue: Sendable, Equatable {
    /// Which column holds the value, which says how it is sealed.
    public enum Kind: String, Sendable, CaseIterable {
        /// `grants.sealed_share` under `share_kid`, bound to the grant's token hash.
        case share
        /// `messages.sealed_subject` under `subject_kid`, metadata bound to the message id.
        case subject
        /// `outbox.sealed_data` under `data_kid`, metadata bound to the outbox row id.
        case outboxData
    }

    /// The column.
    public let kind: Kind
    /// The row: a grant id (decimal), a message id, an outbox row id.
    public let rowID: String
    /// The key id it is sealed under.
    public let kid: String
    /// The sealed bytes.
    public let sealed: Data
    /// The grant's token hash, bound into a share's additional data; nil for metadata.
    public let tokenHash: Data?

    /// A value as read from its row.
    public init(kind: Kind, rowID: String, kid: String, sealed: Data, tokenHash: Data? = nil) {
        self.kind = kind
        self.rowID = rowID
        self.kid = kid
        self.sealed = sealed
        self.tokenHash = tokenHash
    }

    /// The same value sealed again under the key `kid`, to be written in place of `original`.
    public struct Replacement: Sendable, Equatable {
        /// The value as it was read; the write happens only if the row still holds it.
        public let original: SealedValue
        /// The new key id.
        public let kid: String
        /// The value sealed under it.
        public let sealed: Data

        /// A replacement of `original` by `sealed` under `kid`.
        public init(original: SealedValue, kid: String, sealed: Data) {
            self.original = original
            self.kid = kid
            self.sealed = sealed
        }
    }
}
