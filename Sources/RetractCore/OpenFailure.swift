import Foundation

/// Why a link did not open. Every case is safe to show the reader as it is.
///
/// A wrong link key and an unknown token are both `.invalidKey`: the reader cannot tell
/// them apart, by answer or by timing.
public enum OpenFailure: Error, Equatable, Sendable {
    /// The token is not a well-formed token (no lookup was made).
    case notFound
    /// The key does not open this link, or the link does not exist.
    case invalidKey
    /// The sender withdrew the message.
    case revoked(at: Date, reason: String?, replaced: Bool)
    /// The link's lifetime is over.
    case expired(at: Date)
    /// The link was opened as many times as the sender allowed.
    case viewsExhausted
    /// Too many wrong keys were tried; try again after `retryAfter` seconds.
    case tooManyAttempts(retryAfter: Int)
    /// The stored ciphertext failed to authenticate or is incomplete.
    case damaged
    /// The message was sent with `verify`: ask for the code mailed to `maskedRecipient`
    /// (`POST /m/{token}/code`) and send it with the key.
    case codeRequired(maskedRecipient: String)
    /// The verification code is wrong, expired or already used; `remaining` wrong codes
    /// are left before the link locks.
    case invalidCode(remaining: Int)

    /// The stable code of the HTTP contract.
    public var code: String {
        switch self {
        case .notFound: "not_found"
        case .invalidKey: "invalid_key"
        case .revoked: "revoked"
        case .expired, .viewsExhausted: "expired"
        case .tooManyAttempts: "too_many_attempts"
        case .damaged: "damaged"
        case .codeRequired: "code_required"
        case .invalidCode: "invalid_code"
        }
    }
}
