import Foundation

/// What came of asking the vault to store a new verification code.
public enum VerificationIssue: Sendable, Equatable {
    /// The code is stored (replacing any earlier one) and its mail is queued.
    case issued
    /// The grant is locked after too many wrong codes; ask again after `until`.
    case locked(until: Date)
    /// The grant had as many codes mailed as the hourly limit allows; ask again after `retryAt`.
    case tooManyCodes(retryAt: Date)
}
