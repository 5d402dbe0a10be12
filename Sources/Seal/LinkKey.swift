import Sodium

/// A grant's link key: 32 secret bytes carried only in the link's fragment, never stored.
public struct LinkKey: Sendable, CustomStringConvertible {
    /// Bytes in a link key.
    public static let byteCount = 32
    /// Characters in a link key's base64url form.
    public static let textLength = 43

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
    public static func generate() -> LinkKey {
        LinkKey(validated: .random(count: byteCount))
    }

    /// Parses exactly 43 canonical base64url characters; anything else is `nonCanonicalEncoding`.
    public init(base64url text: String) throws(SealError) {
        guard text.utf8.count == Self.textLength else { throw .nonCanonicalEncoding }
        let decoded: SecureBytes
        do {
            decoded = try Base64URL.decodeSecret(text)
        } catch {
            throw .nonCanonicalEncoding
        }
        guard decoded.count == Self.byteCount else { throw .nonCanonicalEncoding }
        secret = decoded
    }

    /// The 43-character fragment form; as secret as the key itself.
    public var base64url: String { Base64URL.encode(secret) }

    /// Redacted.
    public var description: String { "LinkKey(redacted)" }
}
