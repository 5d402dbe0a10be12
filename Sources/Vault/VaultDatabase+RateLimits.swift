import Foundation
import GRDB

extension VaultDatabase {
    /// The times of the failures counted against `subject` under `scope` since `since`,
    /// oldest first.
    public func rateLimitEvents(scope: String, subject: String, since: Date) throws -> [Date] {
        try reader.read { db in
            try Date.fetchAll(
                db,
                sql: "SELECT at FROM rate_limit_events WHERE scope = ? AND subject = ? AND at > ? ORDER BY at",
                arguments: [scope, subject, since])
        }
    }

    /// Records one failure; events older than `pruneBefore` (of any scope) are deleted in
    /// the same transaction, so the table stays small.
    public func recordRateLimitEvent(scope: String, subject: String, at: Date, pruneBefore: Date) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM rate_limit_events WHERE at < ?", arguments: [pruneBefore])
            try db.execute(
                sql: "INSERT INTO rate_limit_events (scope, subject, at) VALUES (?, ?, ?)",
                arguments: [scope, subject, at])
        }
    }

    /// Forgets the failures counted against `subject` under `scope` (after a success).
    public func clearRateLimitEvents(scope: String, subject: String) throws {
        try writer.write { db in
            try db.execute(
                sql: "DELETE FROM rate_limit_events WHERE scope = ? AND subject = ?", arguments: [scope, subject])
        }
    }

    /// One limit an attempt must be under: at most `limit` events of `subject` under `scope`
    /// after `since`.
    public struct RateLimitCheck: Sendable {
        /// Which limit (`signin-account`, `signin-client`, …).
        public var scope: String
        /// What is limited (an account, a client address).
        public var subject: String
        /// Events allowed in the window.
        public var limit: Int
        /// The window's start.
        public var since: Date

        /// A check.
        public init(scope: String, subject: String, limit: Int, since: Date) {
            self.scope = scope
            self.subject = subject
            self.limit = limit
            self.since = since
        }
    }

    /// What `reserveRateLimitEvents` did.
    public enum RateLimitReservation: Sendable, Equatable {
        /// At least one limit is reached; per such check (by its index), the times of its
        /// events in the window, oldest first. Nothing was written.
        case limited([Int: [Date]])
        /// Every limit had room: one event per check was recorded; their row ids.
        case reserved([Int64])
    }

    /// Checks every limit and, when all have room, records one event per check, in one
    /// write transaction: concurrent attempts (in any process) cannot all pass the check
    /// before any of them is counted. Events older than `pruneBefore` are deleted first.
    ///
    /// The attempt is counted before its outcome is known; a caller whose attempt
    /// succeeds (or never ran) takes it back with `deleteRateLimitEvents(ids:)`.
    public func reserveRateLimitEvents(_ checks: [RateLimitCheck], at: Date, pruneBefore: Date) throws
        -> RateLimitReservation
    {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM rate_limit_events WHERE at < ?", arguments: [pruneBefore])
            var limited: [Int: [Date]] = [:]
            for (index, check) in checks.enumerated() {
                let events = try Date.fetchAll(
                    db,
                    sql: "SELECT at FROM rate_limit_events WHERE scope = ? AND subject = ? AND at > ? ORDER BY at",
                    arguments: [check.scope, check.subject, check.since])
                if check.limit <= 0 || events.count >= check.limit { limited[index] = events }
            }
            guard limited.isEmpty else { return .limited(limited) }
            var ids: [Int64] = []
            for check in checks {
                try db.execute(
                    sql: "INSERT INTO rate_limit_events (scope, subject, at) VALUES (?, ?, ?)",
                    arguments: [check.scope, check.subject, at])
                ids.append(db.lastInsertedRowID)
            }
            return .reserved(ids)
        }
    }

    /// Deletes the events `ids` (an attempt counted by `reserveRateLimitEvents` that succeeded).
    public func deleteRateLimitEvents(ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        try writer.write { db in
            try db.execute(
                sql: "DELETE FROM rate_limit_events WHERE id IN (SELECT value FROM json_each(?))",
                arguments: ["[" + ids.map(String.init).joined(separator: ",") + "]"])
        }
    }
}
