import Foundation

/// A grant's recipient-verification state: the current code (hashed), wrong guesses, the
/// lock after too many, and how long a correct code keeps the grant verified.
///
/// One row per grant of a message sent with `verify`, created by the first code request.
/// The code itself is never stored, only a keyed BLAKE2b hash of it (see `docs/crypto.md`).
public struct VerificationCodeRecord: Codable, Sendable, Equatable {
    /// The grant the code belongs to.
    public var grantId: Int64
    /// Keyed hash of the live code; nil once used, replaced by a lock, or never issued.
    public var codeHash: Data?
    /// When the live code was mailed.
    public var issuedAt: Date?
    /// After this instant the live code no longer verifies.
    public var expiresAt: Date?
    /// Wrong codes since the last lock or success.
    public var failedCount: Int
    /// Until this instant no code is accepted and none is mailed.
    public var lockedUntil: Date?
    /// Until this instant the grant opens without a code (a correct code was entered).
    public var verifiedUntil: Date?

    /// Creates a state row; every field is stored as given.
    public init(
        grantId: Int64, codeHash: Data? = nil, issuedAt: Date? = nil, expiresAt: Date? = nil, failedCount: Int = 0,
        lockedUntil: Date? = nil, verifiedUntil: Date? = nil
    ) {
        self.grantId = grantId
        self.codeHash = codeHash
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.failedCount = failedCount
        self.lockedUntil = lockedUntil
        self.verifiedUntil = verifiedUntil
    }
}
