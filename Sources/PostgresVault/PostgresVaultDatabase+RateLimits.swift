import Foundation
import PostgresNIO
import Sodium
import Vault

extension PostgresVaultDatabase {
    /// The times of the failures counted against `subject` under `scope` since `since`,
    /// oldest first.
    public func rateLimitEvents(scope: String, subject: String, since: Date) async throws -> [Date] {
        try await withConnection("reading rate-limit events") { connection in
            try await Self.events(scope: scope, subject: subject, since: since, on: connection, logger: logger)
        }
    }

    /// Records one failure; events older than `pruneBefore` (of any scope) are deleted in
    /// the same transaction, so the table stays small.
    public func recordRateLimitEvent(scope: String, subject: String, at: Date, pruneBefore: Date) async throws {
        try await transaction("recording a rate-limit event") { connection in
            try await connection.query(
                "DELETE FROM rate_limit_events WHERE at < \(pruneBefore.postgres)", logger: logger)
            try await connection.query(
                "INSERT INTO rate_limit_events (scope, subject, at) VALUES (\(scope), \(subject), \(at.postgres))",
                logger: logger)
        }
    }

    /// Forgets the failures counted against `subject` under `scope` (after a success).
    public func clearRateLimitEvents(scope: String, subject: String) async throws {
        try await withConnection("clearing rate-limit events") { connection in
            try await connection.query(
                "DELETE FROM rate_limit_events WHERE scope = \(scope) AND subject = \(subject)", logger: logger)
        }
    }

    /// Checks every limit and, when all have room, records one event per check, atomically
    /// across every node: one transaction that first takes a transaction-level advisory lock
    /// per (scope, subject) (`pg_advisory_xact_lock` of a BLAKE2b hash, in ascending order so
    /// two reservations never deadlock), then counts, then inserts. A second node's
    /// reservation of the same subject waits for the lock and counts this one's event, so
    /// concurrent attempts cannot all see "one attempt left". Events older than
    /// `pruneBefore` are deleted first.
    ///
    /// The attempt is counted before its outcome is known; a caller whose attempt succeeds
    /// (or never ran) takes it back with `deleteRateLimitEvents(ids:)`.
    public func reserveRateLimitEvents(_ checks: [VaultDatabase.RateLimitCheck], at: Date, pruneBefore: Date)
        async throws -> VaultDatabase.RateLimitReservation
    {
        let locks = Set(checks.map { Self.rateLimitLock(scope: $0.scope, subject: $0.subject) }).sorted()
        return try await transaction("reserving a rate-limit event") { connection in
            for key in locks {
                try await connection.query("SELECT pg_advisory_xact_lock(\(key))", logger: logger)
            }
            try await connection.query(
                "DELETE FROM rate_limit_events WHERE at < \(pruneBefore.postgres)", logger: logger)
            var limited: [Int: [Date]] = [:]
            for (index, check) in checks.enumerated() {
                let events = try await Self.events(
                    scope: check.scope, subject: check.subject, since: check.since, on: connection, logger: logger)
                if check.limit <= 0 || events.count >= check.limit { limited[index] = events }
            }
            guard limited.isEmpty else { return .limited(limited) }
            var ids: [Int64] = []
            for check in checks {
                let rows = try await Self.rows(
                    """
                    INSERT INTO rate_limit_events (scope, subject, at) VALUES (\(check.scope), \(check.subject), \(at.postgres))
                    RETURNING id
                    """, on: connection, logger: logger)
                ids.append(try rows[0].value("id", as: Int64.self))
            }
            return .reserved(ids)
        }
    }

    /// Deletes the events `ids` (an attempt counted by `reserveRateLimitEvents` that succeeded).
    public func deleteRateLimitEvents(ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await withConnection("deleting rate-limit events") { connection in
            try await connection.query("DELETE FROM rate_limit_events WHERE id = ANY(\(ids))", logger: logger)
        }
    }

    /// The advisory lock of one (scope, subject): the first 8 bytes of BLAKE2b-256 of
    /// "retract-rate-limit", scope and subject (NUL-separated), as a bigint. A collision
    /// only makes two unrelated subjects wait for each other for a moment.
    static func rateLimitLock(scope: String, subject: String) -> Int64 {
        var hash = GenericHash()
        hash.update(Array("retract-rate-limit".utf8) + [0] + Array(scope.utf8) + [0] + Array(subject.utf8))
        return hash.finalize().prefix(8).reduce(Int64(0)) { ($0 << 8) | Int64($1) }
    }

    private static func events(
        scope: String, subject: String, since: Date, on connection: PostgresConnection, logger: Logger
    ) async throws -> [Date] {
        try await rows(
            """
            SELECT at FROM rate_limit_events WHERE scope = \(scope) AND subject = \(subject) AND at > \(since.postgres)
            ORDER BY at
            """, on: connection, logger: logger
        ).map { try $0.date("at") }
    }
}
