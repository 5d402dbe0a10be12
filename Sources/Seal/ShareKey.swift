import Sodium

/// A grant's share: 32 secret bytes the vault holds sealed under the master key.
///
/// Revoking a grant deletes its sealed share, which makes its link useless for good.
public struct ShareKey: Sendable, CustomStringConvertible {
    /// Bytes in a share.
    public static let byteCount = 32

    let secret: SecureBytes

    init(validated secret: SecureBytes) {
        self.secret = secret
    }

    /// Copies a 32-byte share (for tests and tools); throws `invalidLength` for any other size.
    public init(secret: SecureBytes) throws(SealError) {
        guard secret.count == Self.byteCount else { throw .invalidLength }
        self.secret = SecureBytes(copying: secret)
    }

    /// A fresh random share.
    public static func generate() -> ShareKey {
        ShareKey(validated: .random(count: byteCount))
    }

    /// Redacted.
    public var description: String { "ShareKey(redacted)" }
}
