import Foundation

/// One attempt to open a link, successful or not: the access log the sender reads.
public struct AccessEventRecord: Codable, Sendable, Equatable {
    /// What came of the attempt.
    public enum Result: String, Codable, Sendable {
        case opened
        case attachment
        case invalidKey = "invalid_key"
        case revoked
        case expired
        case viewsExhausted = "views_exhausted"
        case tooManyAttempts = "too_many_attempts"
        /// The right key with a wrong or expired verification code.
        case invalidCode = "invalid_code"
    }

    /// Row id, set on insert.
    public var id: Int64?
    /// The grant, or nil when the token matched none.
    public var grantId: Int64?
    /// Hash of the token that was tried (rate limits count by it).
    public var tokenHash: Data
    /// When.
    public var at: Date
    /// The outcome.
    public var result: Result

    /// Creates an event.
    public init(grantId: Int64?, tokenHash: Data, at: Date, result: Result) {
        self.grantId = grantId
        self.tokenHash = tokenHash
        self.at = at
        self.result = result
    }

}
