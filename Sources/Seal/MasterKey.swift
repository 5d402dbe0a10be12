import Sodium

/// A vault master key: an id (`kid`) and 32 secret bytes that seal shares and metadata.
///
/// The `Vault` module owns the key files; this type only holds and checks the key.
public struct MasterKey: Sendable, CustomStringConvertible {
    /// Bytes in a master key.
    public static let byteCount = 32
    /// Longest allowed key id.
    public static let maxKeyIDLength = 64

    /// The key id, bound into every share and metadata value sealed under this key.
    public let kid: String

    let secret: SecureBytes

    /// Copies a 32-byte key read from its file; throws `invalidKeyID` or `invalidLength`.
    public init(kid: String, secret: SecureBytes) throws(SealError) {
        guard Self.isValidKeyID(kid) else { throw .invalidKeyID }
        guard secret.count == Self.byteCount else { throw .invalidLength }
        self.kid = kid
        self.secret = SecureBytes(copying: secret)
    }

    private init(validatedKID kid: String, secret: SecureBytes) {
        self.kid = kid
        self.secret = secret
    }

    /// A fresh random key named `kid`, which must pass `isValidKeyID` (a programming error
    /// otherwise: check user-supplied ids first).
    public static func generate(kid: String) -> MasterKey {
        precondition(isValidKeyID(kid), "master key id must be 1-64 characters of A-Z a-z 0-9 _ -")
        return MasterKey(validatedKID: kid, secret: .random(count: byteCount))
    }

    /// Whether `kid` is 1–64 characters of `A–Z a–z 0–9 _ -` (safe in file names and
    /// additional data).
    public static func isValidKeyID(_ kid: String) -> Bool {
        let utf8 = kid.utf8
        return (1...maxKeyIDLength).contains(utf8.count)
            && utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default:
                    false
                }
            }
    }

    /// Lends the 32 secret bytes, for writing the key file; the pointer must not escape.
    public func withUnsafeSecretBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try secret.withUnsafeBytes(body)
    }

    /// Names the key id only.
    public var description: String { "MasterKey(kid: \(kid), redacted)" }
}
