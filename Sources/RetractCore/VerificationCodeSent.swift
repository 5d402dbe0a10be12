import Foundation

/// The answer to a code request: a fresh code is on its way to the recipient's own address.
///
/// Carries no code: the code only ever travels in the mail.
public struct VerificationCodeSent: Sendable, Equatable {
    /// The recipient the code was mailed to, partly masked.
    public var maskedRecipient: String
    /// When the code stops working.
    public var expiresAt: Date

    /// Creates the answer.
    public init(maskedRecipient: String, expiresAt: Date) {
        self.maskedRecipient = maskedRecipient
        self.expiresAt = expiresAt
    }
}
