import Foundation
import GRDB
import Sodium

/// Recipient verification and the per-client limit on failed opens.
///
/// Both keep their counts in tables (`verification_codes`, `rate_limit_events`), so a
/// restart forgets nothing. The generic rate limiter of the sender side uses the same
/// `rate_limit_events` table under other scopes; these functions only touch the scopes
/// named here (`open-client`, `verify-mail`).
extension VaultDatabase {
    /// `rate_limit_events.scope` of failed opens counted per client address.
    public static let openClientScope = "open-client"
    /// `rate_limit_events.scope` of verification-code mails counted per grant.
    public static let verificationMailScope = "verify-mail"

    // MARK: Verification codes

    /// The verification state of a grant, nil before its first code request.
    public func verificationState(grantID: Int64) async throws -> VerificationCodeRecord? {
        try await reader.read { db in try VerificationCodeRecord.fetchOne(db, key: grantID) }
    }

    /// Stores a new code's hash for a grant and queues the mail that carries the code, in
    /// one transaction, unless the grant is locked or already had `maxMails` codes mailed
    /// within `window`.
    ///
    /// A new code replaces the previous one; wrong guesses made so far still count toward
    /// the lock, so asking for a fresh code does not buy more guesses.
    public func issueVerificationCode(
        grantID: Int64, codeHash: [UInt8], at: Date, expiresAt: Date, mail: OutboxMailRecord, maxMails: Int,
        window: TimeInterval
    ) async throws -> VerificationIssue {
        try await writer.write { db in
            var state =
                try VerificationCodeRecord.fetchOne(db, key: grantID) ?? VerificationCodeRecord(grantId: grantID)
            if let lockedUntil = state.lockedUntil, lockedUntil > at { return .locked(until: lockedUntil) }
            let subject = String(grantID)
            let windowStart = at.addingTimeInterval(-window)
            let recent = try Date.fetchAll(
                db,
                sql: "SELECT at FROM rate_limit_events WHERE scope = ? AND subject = ? AND at > ? ORDER BY at",
                arguments: [Self.verificationMailScope, subject, windowStart])
            if recent.count >= maxMails, let oldest = recent.first {
                return .tooManyCodes(retryAt: oldest.addingTimeInterval(window))
            }
            try db.execute(
                sql: "DELETE FROM rate_limit_events WHERE scope = ? AND subject = ? AND at <= ?",
                arguments: [Self.verificationMailScope, subject, windowStart])
            try db.execute(
                sql: "INSERT INTO rate_limit_events (scope, subject, at) VALUES (?, ?, ?)",
                arguments: [Self.verificationMailScope, subject, at])
            state.codeHash = Data(codeHash)
            state.issuedAt = at
            state.expiresAt = expiresAt
            state.lockedUntil = nil
            try state.save(db)
            try mail.insert(db)
            return .issued
        }
    }

    /// Checks a code offered for a grant and records the outcome, in one transaction so
    /// that concurrent guesses cannot share a count.
    ///
    /// `candidateHash` is the keyed hash of the offered code, nil when none was offered.
    /// The hashes are compared in constant time (`sodium_memcmp`). A correct code is used
    /// up and keeps the grant verified for `rememberFor`; the `maxFailures`-th wrong code
    /// locks the grant for `lockFor` and discards the live code.
    public func checkVerificationCode(
        grantID: Int64, candidateHash: [UInt8]?, at: Date, maxFailures: Int, lockFor: TimeInterval,
        rememberFor: TimeInterval
    ) async throws -> VerificationCheck {
        try await writer.write { db in
            var state =
                try VerificationCodeRecord.fetchOne(db, key: grantID) ?? VerificationCodeRecord(grantId: grantID)
            if let lockedUntil = state.lockedUntil, lockedUntil > at { return .locked(until: lockedUntil) }
            if let verifiedUntil = state.verifiedUntil, verifiedUntil > at { return .remembered(until: verifiedUntil) }
            guard let candidateHash else { return .codeRequired }
            let stored = state.codeHash.map { [UInt8]($0) } ?? [UInt8](repeating: 0, count: candidateHash.count)
            let live = state.codeHash != nil && (state.expiresAt.map { $0 > at } ?? false)
            let matches = constantTimeEquals(stored, candidateHash)
            if live && matches {
                let until = at.addingTimeInterval(rememberFor)
                state.codeHash = nil
                state.expiresAt = nil
                state.failedCount = 0
                state.verifiedUntil = until
                try state.save(db)
                return .verified(until: until)
            }
            state.failedCount += 1
            if state.failedCount >= maxFailures {
                let until = at.addingTimeInterval(lockFor)
                state.failedCount = 0
                state.codeHash = nil
                state.expiresAt = nil
                state.lockedUntil = until
                try state.save(db)
                return .locked(until: until)
            }
            try state.save(db)
            return .invalid(remaining: maxFailures - state.failedCount)
        }
    }
}
