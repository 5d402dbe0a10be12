import Sodium

/// A grant's 16 random bytes: the link's path segment, 22 base64url characters.
///
/// Half of a capability, so its description is redacted; the vault keeps only `hash`.
public struct GrantToken: Hashable, Sendable, CustomStringConvertible, CustomReflectable {
    /// Bytes in a token.
    public static let byteCount = 16
    /// Characters in a token's base64url form.
    public static let textLength = 22

    /// The 16 bytes.
    public let bytes: [UInt8]

    /// Wraps 16 bytes; throws `invalidLength` for any other count.
    public init(bytes: [UInt8]) throws(SealError) {
        guard bytes.count == Self.byteCount else { throw .invalidLength }
        self.bytes = bytes
    }

    /// A fresh random token.
    public static func random() -> GrantToken {
        GrantToken(validated: Random.bytes(byteCount))
    }

    /// Parses exactly 22 canonical base64url characters; anything else is `nonCanonicalEncoding`.
    public init(base64url text: String) throws(SealError) {
        guard text.utf8.count == Self.textLength else { throw .nonCanonicalEncoding }
        let decoded: [UInt8]
        do {
            decoded = try Base64URL.decode(text)
        } catch {
            throw .nonCanonicalEncoding
        }
        guard decoded.count == Self.byteCount else { throw .nonCanonicalEncoding }
        bytes = decoded
    }

    private init(validated bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The 22-character link form.
    public var base64url: String { Base64URL.encode(bytes) }

    /// `BLAKE2b-256(token)`.
    public var hash: TokenHash { TokenHash(validated: GenericHash.hash(bytes)) }

    /// Redacted: tokens do not belong in logs.
    public var description: String { "GrantToken(redacted)" }

    /// An empty mirror, so `dump` does not print the bytes either.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
