import Sodium

/// A message's data key (DEK): 32 secret bytes that seal every part of one message.
///
/// Exists in the clear only in memory; the vault stores it wrapped once per grant.
public struct DataKey: Sendable, CustomStringConvertible {
    /// Bytes in a data key.
    public static let byteCount = 32

    let secret: SecureBytes

    init(validated secret: SecureBytes) {
        self.secret = secret
    }

    /// Copies a 32-byte key (for tests and tools); throws `invalidLength` for any other size.
    public init(secret: SecureBytes) throws(SealError) {
        guard secret.count == Self.byteCount else { throw .invalidLength }
        self.secret = SecureBytes(copying: secret)
    }

    /// A fresh random key.
    public static func generate() -> DataKey {
        DataKey(validated: .random(count: byteCount))
    }

    /// Redacted.
    public var description: String { "DataKey(redacted)" }
}
