import Foundation
import PostgresNIO
import Sodium
import Vault

extension PostgresVaultDatabase {
    /// The verification state of a grant, nil before its first code request.
    public func verificationState(grantID: Int64) async throws -> VerificationCodeRecord? {
        try await withConnection("reading a verification state") { connection in
            try await Self.rows(
                "SELECT * FROM verification_codes WHERE grant_id = \(grantID)", on: connection, logger: logger
            ).first.map { try VerificationCodeRecord(postgres: $0) }
        }
    }

    /// Stores a new code's hash for a grant and queues the mail that carries the code, in
    /// one transaction, unless the grant is locked or already had `maxMails` codes mailed
    /// within `window` (`VaultDatabase.issueVerificationCode`'s rules).
    ///
    /// The grant's `verification_codes` row is created if missing and locked
    /// (`SELECT … FOR UPDATE`) first, so requests for one grant on several nodes run one
    /// after another and count each other's mails.
    public func issueVerificationCode(
        grantID: Int64, codeHash: [UInt8], at: Date, expiresAt: Date, mail: OutboxMailRecord, maxMails: Int,
        window: TimeInterval
    ) async throws -> VerificationIssue {
        try await transaction("issuing a verification code") { connection in
            let state = try await Self.lockedVerificationState(grantID: grantID, on: connection, logger: logger)
            if let lockedUntil = state.lockedUntil, lockedUntil > at { return .locked(until: lockedUntil) }
            let subject = String(grantID)
            let windowStart = at.addingTimeInterval(-window)
            let scope = VaultDatabase.verificationMailScope
            let recent = try await Self.rows(
                """
                SELECT at FROM rate_limit_events WHERE scope = \(scope) AND subject = \(subject)
                AND at > \(windowStart.postgres) ORDER BY at
                """, on: connection, logger: logger
            ).map { try $0.date("at") }
            if recent.count >= maxMails, let oldest = recent.first {
                return .tooManyCodes(retryAt: oldest.addingTimeInterval(window))
            }
            try await connection.query(
                """
                DELETE FROM rate_limit_events WHERE scope = \(scope) AND subject = \(subject) AND at <= \(windowStart.postgres)
                """, logger: logger)
            try await connection.query(
                "INSERT INTO rate_limit_events (scope, subject, at) VALUES (\(scope), \(subject), \(at.postgres))",
                logger: logger)
            try await connection.query(
                """
                UPDATE verification_codes SET code_hash = \(Data(codeHash)), issued_at = \(at.postgres),
                expires_at = \(expiresAt.postgres), locked_until = NULL WHERE grant_id = \(grantID)
                """, logger: logger)
            try await Self.insertOutboxMail([mail], on: connection, logger: logger)
            return .issued
        }
    }

    /// Checks a code offered for a grant and records the outcome, in one transaction that
    /// holds the grant's verification row, so concurrent guesses on any nodes cannot share a
    /// count (`VaultDatabase.checkVerificationCode`'s rules; hashes compared in constant time).
    public func checkVerificationCode(
        grantID: Int64, candidateHash: [UInt8]?, at: Date, maxFailures: Int, lockFor: TimeInterval,
        rememberFor: TimeInterval
    ) async throws -> VerificationCheck {
        try await transaction("checking a verification code") { connection in
            var state = try await Self.lockedVerificationState(grantID: grantID, on: connection, logger: logger)
            if let lockedUntil = state.lockedUntil, lockedUntil > at { return .locked(until: lockedUntil) }
            if let verifiedUntil = state.verifiedUntil, verifiedUntil > at { return .remembered(until: verifiedUntil) }
            guard let candidateHash else { return .codeRequired }
            let stored = state.codeHash.map { [UInt8]($0) } ?? [UInt8](repeating: 0, count: candidateHash.count)
            let live = state.codeHash != nil && (state.expiresAt.map { $0 > at } ?? false)
            let matches = constantTimeEquals(stored, candidateHash)
            let result: VerificationCheck
            if live && matches {
                let until = at.addingTimeInterval(rememberFor)
                state.codeHash = nil
                state.expiresAt = nil
                state.failedCount = 0
                state.verifiedUntil = until
                result = .verified(until: until)
            } else {
                state.failedCount += 1
                if state.failedCount >= maxFailures {
                    let until = at.addingTimeInterval(lockFor)
                    state.failedCount = 0
                    state.codeHash = nil
                    state.expiresAt = nil
                    state.lockedUntil = until
                    result = .locked(until: until)
                } else {
                    result = .invalid(remaining: maxFailures - state.failedCount)
                }
            }
            try await connection.query(
                """
                UPDATE verification_codes SET code_hash = \(state.codeHash), expires_at = \(state.expiresAt?.postgres),
                failed_count = \(Int64(state.failedCount)), locked_until = \(state.lockedUntil?.postgres),
                verified_until = \(state.verifiedUntil?.postgres) WHERE grant_id = \(grantID)
                """, logger: logger)
            return result
        }
    }

    /// The grant's verification row, created empty when missing, locked for this transaction.
    private static func lockedVerificationState(grantID: Int64, on connection: PostgresConnection, logger: Logger)
        async throws -> VerificationCodeRecord
    {
        try await connection.query(
            "INSERT INTO verification_codes (grant_id) VALUES (\(grantID)) ON CONFLICT (grant_id) DO NOTHING",
            logger: logger)
        let row = try await rows(
            "SELECT * FROM verification_codes WHERE grant_id = \(grantID) FOR UPDATE", on: connection, logger: logger)
        return try row.first.map { try VerificationCodeRecord(postgres: $0) } ?? VerificationCodeRecord(grantId: grantID)
    }
}
