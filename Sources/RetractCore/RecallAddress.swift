import Foundation
import Sodium

/// The address a gateway receipt's `Reply-To` names: `recall+<capability>@<recall domain>`,
/// 256 random bits in unpadded base64url. A reply to it revokes the message (revoke by
/// reply); the address is the capability, so the vault keeps only its BLAKE2b hash.
public struct RecallAddress: Sendable {
    /// The address to put in the receipt (a secret: never log it).
    public let address: String
    /// What the vault stores.
    public let hash: Data

    /// The local part's fixed beginning.
    static let prefix = "recall+"

    /// A fresh recall address in `domain`.
    public static func make(domain: String) -> RecallAddress {
        var secret = Random.bytes(32)
        defer { secret.withUnsafeMutableBytes { secureZero($0) } }
        return RecallAddress(address: "\(prefix)\(Base64URL.encode(secret))@\(domain)", hash: hash(secret))
    }

    /// Whether `address` is in Retract's recall namespace: `recall+…@domain` (compared without
    /// case). Such mail is never relayed; a malformed or unknown capability gets 550.
    public static func isRecallAddress(_ address: String, domain: String) -> Bool {
        let bare = address.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
        guard let at = bare.lastIndex(of: "@") else { return false }
        return bare[bare.index(after: at)...].lowercased() == domain.lowercased()
            && bare[..<at].lowercased().hasPrefix(prefix)
    }

    /// The stored hash of `address` when it has the shape of a recall address in `domain`
    /// (compared without case; the capability itself is case-sensitive), nil otherwise.
    public static func hash(of address: String, domain: String) -> Data? {
        let bare = address.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
        guard let at = bare.lastIndex(of: "@"),
            bare[bare.index(after: at)...].lowercased() == domain.lowercased()
        else { return nil }
        let local = bare[..<at]
        guard local.count == prefix.count + ManageLink.encodedLength,
            local.prefix(prefix.count).lowercased() == prefix
        else { return nil }
        let capability = String(local.dropFirst(prefix.count))
        guard capability.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
            var secret = try? Base64URL.decode(capability), secret.count == 32
        else { return nil }
        defer { secret.withUnsafeMutableBytes { secureZero($0) } }
        return hash(secret)
    }

    /// BLAKE2b-256 over a fixed context and the secret (not the manage link's context: one
    /// secret is never both).
    static func hash(_ secret: [UInt8]) -> Data {
        Data(GenericHash.hash(Array("retract/recall-address/v1".utf8), secret))
    }
}
