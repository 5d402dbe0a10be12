import Sodium

/// The key that wraps a data key for one grant, derived from link key, token and share.
///
/// Only `GrantCrypto.deriveKEK` makes one, and it is never stored.
public struct KeyEncryptionKey: Sendable, CustomStringConvertible {
    let secret: SecureBytes

    init(validated secret: SecureBytes) {
        self.secret = secret
    }

    /// Redacted.
    public var description: String { "KeyEncryptionKey(redacted)" }
}
