import Foundation

/// The vault's verdict on a verification code offered for a grant.
public enum VerificationCheck: Sendable, Equatable {
    /// The code matched; the grant is verified until `until`.
    case verified(until: Date)
    /// No code was needed: a correct code was entered recently and is still remembered.
    case remembered(until: Date)
    /// No code was offered and none is remembered.
    case codeRequired
    /// The code did not match, or no live code exists; `remaining` wrong codes are left
    /// before the lock.
    case invalid(remaining: Int)
    /// Too many wrong codes: nothing is accepted until `until`.
    case locked(until: Date)
}
