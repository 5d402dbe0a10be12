import Foundation
import Sodium

/// The sender's manage link of a gateway message: `<public URL>/app/manage#<capability>`,
/// 256 random bits that open the message's page (its state, revoke, correct) without a
/// password, for a sender who never signs in to the web app.
///
/// The capability sits in the fragment, so no browser sends it in a request line and no
/// access log holds it; the page posts it to the server. The vault keeps only its BLAKE2b
/// hash (`hash`), so a copy of the database opens nothing.
public struct ManageLink: Sendable {
    /// The link to mail (a secret: never log it).
    public let url: String
    /// What the vault stores.
    public let hash: Data

    /// The length of an encoded capability: 32 bytes in unpadded base64url.
    static let encodedLength = Base64URL.encodedLength(byteCount: 32)

    /// A fresh manage link under `publicBase`.
    public static func make(publicBase: String) -> ManageLink {
        var secret = Random.bytes(32)
        defer { secret.withUnsafeMutableBytes { secureZero($0) } }
        var base = Substring(publicBase)
        while base.hasSuffix("/") { base = base.dropLast() }
        return ManageLink(url: "\(base)/app/manage#\(Base64URL.encode(secret))", hash: hash(secret))
    }

    /// The stored hash of a capability as pasted (the fragment, without `#`), or nil when it
    /// is not 32 bytes of base64url.
    public static func hash(capability: String) -> Data? {
        let trimmed = capability.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count == encodedLength, var secret = try? Base64URL.decode(trimmed), secret.count == 32
        else { return nil }
        defer { secret.withUnsafeMutableBytes { secureZero($0) } }
        return hash(secret)
    }

    /// BLAKE2b-256 over a fixed context and the secret.
    static func hash(_ secret: [UInt8]) -> Data {
        Data(GenericHash.hash(Array("retract/manage-link/v1".utf8), secret))
    }
}
